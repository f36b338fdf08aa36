import Foundation

/// A self-contained HTML5 report: embedded CSS, figures as inline SVG, no scripts and no
/// network references, so the single file can be archived next to a run's outputs.
///
/// ```swift
/// var page = ReportPage(title: "Toy model run", subtitle: "n = 5 features in m = 2 dimensions")
/// page.add(.section("Setup"))
/// page.add(.keyValues([("steps", "10000"), ("learning rate", "0.001")]))
/// page.add(.figure(lossFigure, caption: "Training loss."))
/// try page.write(to: folder.appendingPathComponent("report.html"))
/// ```
public struct ReportPage: Sendable {
    public var title: String
    /// An introductory line or paragraph under the title.
    public var subtitle: String
    public var blocks: [ReportBlock]
    /// Small print at the bottom, e.g. the command and version that produced the run.
    public var footer: String

    public init(title: String, subtitle: String = "", blocks: [ReportBlock] = [], footer: String = "") {
        self.title = title
        self.subtitle = subtitle
        self.blocks = blocks
        self.footer = footer
    }

    public mutating func add(_ block: ReportBlock) {
        blocks.append(block)
    }

    public mutating func add(contentsOf blocks: [ReportBlock]) {
        self.blocks.append(contentsOf: blocks)
    }

    public func write(to url: URL) throws {
        try Data(html.utf8).write(to: url, options: .atomic)
    }

    /// The complete document. Void elements are self-closed and only XML's predefined
    /// entities are used, so the output is also well-formed XML.
    public var html: String {
        var out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
        out += "<title>\(esc(title))</title>\n<style>\n\(ReportStyle.css)</style>\n</head>\n<body>\n<main>\n"
        out += "<header>\n<h1>\(esc(title))</h1>\n"
        for paragraph in paragraphs(subtitle) {
            out += "<p class=\"subtitle\">\(esc(paragraph))</p>\n"
        }
        out += "</header>\n"

        let sections = blocks.compactMap { block -> String? in
            if case let .section(heading) = block { return heading }
            return nil
        }
        if sections.count > 1 {
            out += "<nav class=\"contents\">\n<ol>\n"
            for (index, heading) in sections.enumerated() {
                out += "<li><a href=\"#section-\(index + 1)\">\(esc(heading))</a></li>\n"
            }
            out += "</ol>\n</nav>\n"
        }

        var sectionOpen = false
        var sectionCount = 0
        var figureCount = 0
        for block in blocks {
            if case let .section(heading) = block {
                if sectionOpen { out += "</section>\n" }
                sectionCount += 1
                out += "<section id=\"section-\(sectionCount)\">\n<h2>\(esc(heading))</h2>\n"
                sectionOpen = true
                continue
            }
            if !sectionOpen {
                out += "<section>\n"
                sectionOpen = true
            }
            out += render(block, figureCount: &figureCount)
        }
        if sectionOpen { out += "</section>\n" }
        if !footer.isEmpty {
            out += "<footer>\(esc(footer))</footer>\n"
        }
        out += "</main>\n</body>\n</html>\n"
        return out
    }

    private func render(_ block: ReportBlock, figureCount: inout Int) -> String {
        switch block {
        case let .section(heading):
            return "<h2>\(esc(heading))</h2>\n"
        case let .subheading(heading):
            return "<h3>\(esc(heading))</h3>\n"
        case let .paragraph(text):
            return paragraphs(text).map { "<p>\(esc($0))</p>\n" }.joined()
        case let .note(text):
            return "<aside class=\"note\">\(paragraphs(text).map { "<p>\(esc($0))</p>" }.joined())</aside>\n"
        case let .keyValues(pairs, caption):
            var out = "<table class=\"key-values\">\n" + tableCaption(caption) + "<tbody>\n"
            for (key, value) in pairs {
                out += "<tr><th scope=\"row\">\(esc(key))</th><td>\(esc(value))</td></tr>\n"
            }
            return out + "</tbody>\n</table>\n"
        case let .table(headers, rows, caption):
            return table(headers: headers, rows: rows, caption: caption)
        case let .json(text, caption):
            var out = "<figure class=\"code\">\n<pre><code>\(esc(text))</code></pre>\n"
            if !caption.isEmpty { out += "<figcaption>\(esc(caption))</figcaption>\n" }
            return out + "</figure>\n"
        case let .figure(figure, caption):
            return figures([figure], caption: caption, count: &figureCount)
        case let .figures(list, caption):
            return figures(list, caption: caption, count: &figureCount)
        }
    }

    private func figures(_ list: [Figure], caption: String, count: inout Int) -> String {
        guard !list.isEmpty else { return "" }
        count += 1
        var out = "<figure id=\"figure-\(count)\" class=\"chart\">\n<div class=\"plots\">\n"
        for (index, figure) in list.enumerated() {
            // Each SVG gets its own id prefix so clip paths of different figures cannot collide.
            let prefix = list.count == 1 ? "f\(count)" : "f\(count)-\(index + 1)"
            out += "<div class=\"plot\">\n\(figure.inlineSVG(idPrefix: prefix))</div>\n"
        }
        out += "</div>\n<figcaption><span class=\"label\">Figure \(count).</span>"
        if !caption.isEmpty { out += " \(esc(caption))" }
        return out + "</figcaption>\n</figure>\n"
    }

    private func table(headers: [String], rows: [[String]], caption: String) -> String {
        let columns = max(headers.count, rows.map(\.count).max() ?? 0)
        let numeric = (0..<columns).map { column in
            rows.contains { column < $0.count } && rows.allSatisfy { column >= $0.count || Self.looksNumeric($0[column]) }
        }
        var out = "<div class=\"table-scroll\">\n<table class=\"data\">\n" + tableCaption(caption)
        if !headers.isEmpty {
            out += "<thead><tr>"
            for column in 0..<columns {
                let text = column < headers.count ? headers[column] : ""
                out += numeric[column] ? "<th class=\"num\">\(esc(text))</th>" : "<th>\(esc(text))</th>"
            }
            out += "</tr></thead>\n"
        }
        out += "<tbody>\n"
        for row in rows {
            out += "<tr>"
            for column in 0..<columns {
                let text = column < row.count ? row[column] : ""
                out += numeric[column] ? "<td class=\"num\">\(esc(text))</td>" : "<td>\(esc(text))</td>"
            }
            out += "</tr>\n"
        }
        return out + "</tbody>\n</table>\n</div>\n"
    }

    private func tableCaption(_ caption: String) -> String {
        caption.isEmpty ? "" : "<caption>\(esc(caption))</caption>\n"
    }

    private func paragraphs(_ text: String) -> [String] {
        text.components(separatedBy: "\n\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    private func esc(_ text: String) -> String {
        Markup.escape(text)
    }

    /// Numbers as written by people or by ``NumberFormat`` (typographic minus, ×10ⁿ, %, ∞, NaN).
    static func looksNumeric(_ text: String) -> Bool {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return true }
        if ["NaN", "nan", "∞", "−∞", "-∞", "inf", "-inf", "—", "–"].contains(trimmed) { return true }
        let allowed = Set("0123456789.,+-−eE×⁰¹²³⁴⁵⁶⁷⁸⁹⁻% ")
        return trimmed.contains(where: \.isNumber) && trimmed.allSatisfy { allowed.contains($0) }
    }
}
