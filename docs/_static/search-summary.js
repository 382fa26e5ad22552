// Search results show an excerpt of each page, which the search page fetch()es. A page
// opened from disk (file://) cannot fetch another, so there the results show titles only.
if (location.protocol === "file:" && typeof DOCUMENTATION_OPTIONS !== "undefined") {
  DOCUMENTATION_OPTIONS.SHOW_SEARCH_SUMMARY = false;
}
