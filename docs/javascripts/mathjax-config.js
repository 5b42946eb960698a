// MathJax 2 (from the jupyter-server-mathjax package, copied into the site: no CDN).
// Typesets the formulas that pymdownx.arithmatex marks (class "arithmatex") and the maths in the
// lessons' markdown cells (class "jp-MarkdownOutput"); everything else on a page is left alone.
window.MathJax = {
  jax: ["input/TeX", "output/HTML-CSS"],
  extensions: ["tex2jax.js"],
  TeX: { extensions: ["AMSmath.js", "AMSsymbols.js", "noErrors.js", "noUndefined.js"] },
  tex2jax: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    ignoreClass: ".*|",
    processClass: "arithmatex|jp-MarkdownOutput"
  },
  "HTML-CSS": { availableFonts: [], webFont: "STIX-Web", imageFont: null },
  showMathMenu: false,
  messageStyle: "none"
};
