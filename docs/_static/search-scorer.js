// Sphinx's search scorer (html_search_scorer). The error index quotes every error the
// site shows, so it holds the words of many queries that are not about errors
// ("torch.compile ModuleDict key tensor"); for those its text ranks below the pages that
// explain the topic (a match in its title, "error index", keeps its rank). For a query that is an error message, search-errors.js lists the
// blocks that show it first, and the index keeps Sphinx's own rank.
var Scorer = {
  score: (result) => {
    const [docname, , , , score, , kind] = result;
    const isError = typeof GuideErrors !== "undefined" && GuideErrors.lastQueryIsAnError;
    const demoted = docname === "reference/errors" && kind === "text" && !isError;
    return demoted ? Math.min(score, 1) : score;
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
