// Words readers use that the site spells otherwise. Sphinx's search lists a page only if
// it holds every word of the query, so "DataParallel" finds nothing on a site that says
// "DistributedDataParallel". The search page alone loads this script: a query word that
// no page holds is replaced by the first of its alternatives that a page holds.
"use strict";

const GuideWords = (() => {
  const ALTERNATIVES = {
    dataparallel: ["distributeddataparallel", "ddp"],
    gpu: ["device", "cuda"],
    gpus: ["device", "cuda"],
    cuda: ["device", "gpu"],
    devices: ["device"],
    jit: ["torchscript"],
    dynamo: ["compile"],
  };

  // Whether a page holds ``word`` (in its text or its titles), as Sphinx stems it.
  const indexed = (word) => {
    const stem = new Stemmer().stemWord(word);
    return stem in Search._index.terms || stem in Search._index.titleterms;
  };

  const readersWords = (query) =>
    query.replace(/[\p{L}\p{N}_]+/gu, (word) => {
      const alternatives = ALTERNATIVES[word.toLowerCase()];
      if (!alternatives || indexed(word.toLowerCase())) return word;
      return alternatives.find(indexed) || word;
    });

  document.addEventListener("DOMContentLoaded", () => {
    // searchtools.js (loaded after this script) defines Search; it searches once the
    // page has loaded, after this listener.
    if (typeof Search === "undefined") return;
    const parseQuery = Search._parseQuery;
    Search._parseQuery = (query) => {
      const parsed = parseQuery(readersWords(query));
      parsed[0] = query; // the query as typed (the error matching reads it)
      return parsed;
    };
  });

  return { readersWords };
})();
