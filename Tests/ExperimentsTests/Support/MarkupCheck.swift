import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Parses markup with Foundation's XMLParser: whether it is well-formed, and the elements it holds.
final class MarkupCheck: NSObject, XMLParserDelegate {
    private(set) var elementNames: [String] = []
    private(set) var text = ""
    private(set) var error: Error?

    var isWellFormed: Bool { error == nil && !elementNames.isEmpty }

    init(_ markup: String) {
        super.init()
        let parser = XMLParser(data: Data(markup.utf8))
        parser.delegate = self
        if !parser.parse() {
            error = parser.parserError ?? NSError(domain: "MarkupCheck", code: 1)
        }
    }

    func count(of name: String) -> Int { elementNames.filter { $0 == name }.count }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        elementNames.append(elementName)
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        text += string
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
        error = parseError
    }
}
