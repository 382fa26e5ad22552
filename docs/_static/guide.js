// Code blocks and tables that scroll (sideways, or down: a long traceback has a height
// limit) must be reachable by keyboard (axe: scrollable-region-focusable); a table's
// container (furo's) is a region named by the title of its section.
// Checked again once fonts and images have loaded, and when the window changes size.
const guideFocusScrollingBlocks = () => {
  for (const block of document.querySelectorAll("article pre, article div.table-wrapper")) {
    if (block.scrollWidth <= block.clientWidth && block.scrollHeight <= block.clientHeight) continue;
    block.tabIndex = 0;
    const title = block.matches("div") && block.closest("section")?.querySelector("h1, h2, h3");
    if (title) block.setAttribute("role", "region");
    if (title) block.setAttribute("aria-label", title.textContent.replace("¶", "").trim());
  }
};
document.addEventListener("DOMContentLoaded", guideFocusScrollingBlocks);
window.addEventListener("load", guideFocusScrollingBlocks);
window.addEventListener("resize", guideFocusScrollingBlocks);
