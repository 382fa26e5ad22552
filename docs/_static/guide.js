// Code blocks that scroll sideways must be reachable by keyboard (axe: scrollable-region-focusable).
document.addEventListener("DOMContentLoaded", () => {
  for (const pre of document.querySelectorAll("div.highlight pre")) {
    if (pre.scrollWidth > pre.clientWidth) pre.tabIndex = 0;
  }
});
