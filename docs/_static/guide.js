// Code blocks that scroll (sideways, or down: a long traceback has a height limit) must be
// reachable by keyboard (axe: scrollable-region-focusable).
// Checked again once fonts and images have loaded, and when the window changes size.
const guideFocusScrollingBlocks = () => {
  for (const pre of document.querySelectorAll("article pre")) {
    const scrolls = pre.scrollWidth > pre.clientWidth || pre.scrollHeight > pre.clientHeight;
    if (scrolls) pre.tabIndex = 0;
  }
};
document.addEventListener("DOMContentLoaded", guideFocusScrollingBlocks);
window.addEventListener("load", guideFocusScrollingBlocks);
window.addEventListener("resize", guideFocusScrollingBlocks);
