// A pasted error message finds the page that explains it.
//
// Sphinx's search lists a page only if it holds every word of the query, so a message
// with the reader's own key name ("KeyError: 'layer3'"), or retyped without its quotes
// or backslashes, finds nothing, or only the error index. The search page alone loads
// this script, after search-errors-data.js (written by docs/_ext/error_index.py: every
// error the site shows, with the page and anchor of each block that shows it; the pages' titles).
// Each query is compared with those messages, word by word, ignoring quotes,
// backslashes, word order, numbers and the names in quotes (a reader's keys differ);
// the blocks that show the closest messages (3 pages at most) come first in the results,
// linked at the block itself, and Sphinx's own results follow.
"use strict";

const GuideErrors = (() => {
  const STOPWORDS = new Set([
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "in", "is", "it",
    "of", "on", "or", "the", "to", "with",
  ]);
  // A name in quotes, without spaces: a key, an attribute, a type ('layer1', "enc.w").
  const QUOTED = /(['"])([^'"\s\\]{0,29}[\p{L}\p{N}_][^'"\s\\]{0,30})\1/gu;
  const MAX_PAGES = 3;

  // (can't, can\'t and cant are one word)
  const words = (text) =>
    text.toLowerCase().replace(/n\\?['\u2019]t\b/g, "nt").match(/[\p{L}\p{N}_]+/gu) || [];
  // Words that say something: no stop words, no numbers or names with digits, no letters
  // alone (the "t" of "can\'t", the parts of "a.b").
  const telling = (word) => word.length > 1 && !STOPWORDS.has(word) && !/\d/.test(word);
  const lastName = (type) => type.split(".").pop().toLowerCase();

  const known = (typeof GUIDE_SHOWN_ERRORS === "undefined" ? [] : GUIDE_SHOWN_ERRORS).map(
    (error) => {
      const slots = [...error.shown.matchAll(QUOTED)];
      const named = new Set(slots.flatMap((slot) => words(slot[2])));
      const digits = words(error.shown).filter((word) => /\d/.test(word));
      const numbers = new Set(digits.filter((word) => /^\d+$/.test(word)));
      const typeWords = new Set(words(error.type));
      const fixed = new Set(
        words(error.shown.replace(QUOTED, " ")).filter(
          (word) => telling(word) && !typeWords.has(word) && !named.has(word),
        ),
      );
      return {
        ...error,
        typeName: lastName(error.type),
        typeWords,
        fixed,
        named,
        slots: slots.length + digits.length,
        quotedNames: slots.length > 0,
        numbers,
        flat: words(error.shown).join(" "),
      };
    },
  );
  const typeNames = new Set(known.map((error) => error.typeName));

  // How close a query is to one message: null when it is not that message.
  const closeness = (query, queryWords, queryNumbers, quoted, error) => {
    const named = queryWords.filter((word) => typeNames.has(word));
    const typeHit = named.includes(error.typeName);
    if (named.length && !typeHit) return null; // the query names another exception
    const rest = queryWords.filter((word) => !error.typeWords.has(word));
    const matched = rest.filter((word) => error.fixed.has(word)).length;
    const inNames = rest.filter((word) => error.named.has(word)).length;
    // Words the message does not have: the reader's own names stand in its slots.
    const unknown = rest.length - matched - inNames;
    const penalty = Math.max(0, unknown - (error.slots + 1));
    const size = rest.length + (typeHit ? 1 : 0);
    const precision = size ? (size - penalty) / size : 0;
    const recall = error.fixed.size ? matched / error.fixed.size : typeHit ? 1 : 0;
    // The query is a part of the message, as printed (4 words at least: not a topic).
    const exact = query.split(" ").length >= 4 && error.flat.includes(query);
    const close = typeHit
      ? precision >= 0.6 && (matched + inNames > 0 || !error.fixed.size || !rest.length)
      : precision >= 0.75 && matched >= 3 && (recall >= 0.3 || matched >= 5);
    if (!close && !exact) return null;
    // A number where the message has one ("KeyError: 0"), the same number even better.
    const numbers = queryNumbers.filter((number) => error.numbers.has(number)).length;
    const numbered = queryNumbers.length && error.numbers.size ? 0.25 : 0;
    // A name in quotes where the message has one ("KeyError: 'layer3'").
    const inQuotes = quoted && error.quotedNames ? 0.25 : 0;
    // How much of the query the message itself explains (not its slots).
    const coverage = rest.length ? (matched + inNames) / rest.length : 1;
    return 2 * recall * precision + precision + coverage + (inNames ? 0.5 : 0) +
      (exact ? 2 : 0) + numbered + inQuotes + (numbers ? 0.25 : 0);
  };

  // How many messages of a type a page shows: the fewer, the more it is about that error.
  const shownOn = (docname, type) =>
    known.filter((error) => error.type === type && error.at.some(([d]) => d === docname)).length;

  // The blocks that show the messages closest to ``query``, best first, one per page:
  // [docname, title, anchor, message, closeness]. Among blocks as close, one whose
  // statement that raised is an item access (what a reader's own ``md["k"]`` raises),
  // then one on a page about that error (fewer messages of its type) comes first.
  const find = (query) => {
    const queryWords = [...new Set(words(query).filter(telling))];
    const flatQuery = words(query).join(" ");
    const queryNumbers = words(query).filter((word) => /^\d+$/.test(word));
    const quoted = query.search(QUOTED) >= 0;
    if (!queryWords.length) return [];
    const hits = known.flatMap((error) => {
      const score = closeness(flatQuery, queryWords, queryNumbers, quoted, error);
      if (score === null) return [];
      return error.at.map(([docname, anchor, access]) => ({ docname, anchor, error, score,
        access, title: GUIDE_PAGE_TITLES[docname], focus: shownOn(docname, error.type) }));
    });
    hits.sort((a, b) => b.score - a.score || b.access - a.access || a.focus - b.focus ||
      a.error.shown.localeCompare(b.error.shown));
    const pages = new Set();
    return hits.filter((hit) => !pages.has(hit.docname) && pages.size < MAX_PAGES &&
      pages.add(hit.docname));
  };

  const describe = (error) => {
    const line = error.shown.split("\n")[0];
    const shown = line.length > 100 ? line.slice(0, 99) + "…" : line;
    return error.versions
      ? `shows ${shown}, as torch ${error.versions.join(", ")} words it`
      : `shows ${shown}`;
  };

  // Sphinx's results, with the blocks that show the closest messages first (the list is
  // shown from its end) and without those pages' other entries.
  const withErrorsFirst = (found, results) => {
    if (!found.length) return results;
    const pages = new Set(found.map((hit) => hit.docname));
    const rest = results.filter((result) => !pages.has(result[0]));
    const first = found.map((hit, rank) => [
      hit.docname,
      hit.title,
      hit.anchor,
      describe(hit.error),
      1000 - rank,
      hit.docname,
      "text",
    ]);
    return [...rest, ...first.reverse()];
  };

  const looksLikeAnError = (query, found) =>
    found.length > 0 || words(query).some((word) => typeNames.has(word));

  document.addEventListener("DOMContentLoaded", () => {
    // searchtools.js (loaded after this script) defines Search; it searches once the
    // page has loaded, after this listener.
    if (typeof Search === "undefined") return;
    const performSearch = Search._performSearch;
    Search._performSearch = (query, ...rest) => {
      const found = find(query);
      // (search-scorer.js reads this while Sphinx ranks its own results)
      GuideErrors.lastQueryIsAnError = looksLikeAnError(query, found);
      return withErrorsFirst(found, performSearch(query, ...rest));
    };
  });

  return { find, lastQueryIsAnError: false };
})();
