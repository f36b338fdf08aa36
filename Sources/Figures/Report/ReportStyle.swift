/// The report's stylesheet: readable measure and type, quiet tables, print-friendly figures.
enum ReportStyle {
    // Kept free of "<" and "&" so the page stays well-formed XML.
    static let css = """
    :root { color-scheme: light; }
    * { box-sizing: border-box; }
    body { margin: 0; background: #fafafa; color: #1f2328;
      font: 16px/1.6 -apple-system, BlinkMacSystemFont, "Segoe UI", Helvetica, Arial, "Liberation Sans", sans-serif; }
    main { max-width: 980px; margin: 0 auto; padding: 2.5rem 1.5rem 4rem; background: #fff; min-height: 100vh; }
    header { border-bottom: 1px solid #e3e3e3; margin-bottom: 1.5rem; padding-bottom: 1rem; }
    h1 { font-size: 1.9rem; line-height: 1.25; margin: 0 0 0.4rem; }
    h2 { font-size: 1.35rem; margin: 2.4rem 0 0.8rem; padding-bottom: 0.25rem; border-bottom: 1px solid #eee; }
    h3 { font-size: 1.1rem; margin: 1.6rem 0 0.5rem; }
    p { margin: 0.6rem 0; max-width: 48em; }
    .subtitle { color: #57606a; font-size: 1.05rem; }
    nav.contents { background: #f6f8fa; border: 1px solid #e6e8eb; border-radius: 6px; padding: 0.6rem 1.2rem;
      margin: 1rem 0 1.5rem; font-size: 0.95rem; }
    nav.contents ol { margin: 0.2rem 0; padding-left: 1.4rem; }
    a { color: #0969da; text-decoration: none; }
    a:hover { text-decoration: underline; }
    aside.note { border-left: 4px solid #d4a72c; background: #fff8e5; padding: 0.5rem 1rem; margin: 1rem 0;
      border-radius: 0 6px 6px 0; }
    aside.note p { margin: 0.3rem 0; }
    table { border-collapse: collapse; margin: 0.8rem 0 1.2rem; font-size: 0.92rem; }
    caption { caption-side: top; text-align: left; color: #57606a; font-size: 0.9rem; padding-bottom: 0.3rem; }
    th, td { padding: 0.3rem 0.75rem; border-bottom: 1px solid #e6e6e6; text-align: left; vertical-align: top; }
    thead th { border-bottom: 2px solid #c9c9c9; font-weight: 600; }
    table.data tbody tr:nth-child(even) { background: #f8f9fa; }
    table.key-values th { font-weight: 600; color: #3a3f44; white-space: nowrap; }
    .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
    .table-scroll { overflow-x: auto; }
    pre { background: #f6f8fa; border: 1px solid #e6e8eb; border-radius: 6px; padding: 0.8rem 1rem; overflow-x: auto;
      font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; margin: 0; }
    figure { margin: 1.5rem 0; }
    figure.chart { text-align: center; break-inside: avoid; page-break-inside: avoid; }
    .plots { display: flex; flex-wrap: wrap; gap: 1rem; justify-content: center; align-items: flex-start; }
    .plot svg { max-width: 100%; height: auto; display: block; }
    figcaption { color: #4a5056; font-size: 0.92rem; margin-top: 0.5rem; text-align: left; max-width: 48em;
      margin-left: auto; margin-right: auto; }
    figure.code figcaption { margin-left: 0; }
    figcaption .label { font-weight: 600; color: #1f2328; }
    footer { margin-top: 3rem; padding-top: 1rem; border-top: 1px solid #e3e3e3; color: #6e7781; font-size: 0.85rem; }
    @media print {
      body { background: #fff; }
      main { max-width: none; padding: 0; }
      nav.contents { display: none; }
      a { color: inherit; }
    }

    """
}
