// Sphinx's search scorer (html_search_scorer): the error index ranks first for a pasted
// error message. A page matches a query only if it contains every word of it, so the
// index is a result only if it holds every word; with 4 or more words, such a query is
// almost always a message, and the index (which links to the explaining page) goes first.
// Shorter queries keep Sphinx's own ranking.
var Scorer = {
  score: (result) => {
    const [docname, , , , score] = result;
    const query = new URLSearchParams(window.location.search).get("q") || "";
    const words = query.match(/[\p{L}\p{N}_]+/gu) || [];
    return docname === "reference/errors" && words.length >= 4 ? score + 100 : score;
  },
  objNameMatch: 11,
  objPartialMatch: 6,
  objPrio: { 0: 15, 1: 5, 2: -5 },
  objPrioDefault: 0,
  title: 15,
  partialTitle: 7,
  term: 5,
  partialTerm: 2,
};
