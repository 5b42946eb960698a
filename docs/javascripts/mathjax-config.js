// MathJax 3 (tex-chtml-full.js and its fonts, from the sphinx-mathjax-offline package, copied into the
// site: no CDN). Typesets the formulas that pymdownx.arithmatex marks (class "arithmatex") and the maths in
// the lessons' markdown cells (class "jp-MarkdownOutput"); the rest of a page is left alone.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    processEnvironments: true
  },
  options: {
    ignoreHtmlClass: "md-header|md-container",   // a page is ignored, except inside the classes below
    processHtmlClass: "arithmatex|jp-MarkdownOutput"
  }
};
