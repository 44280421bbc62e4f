/** Archive query language: parse what a user typed, compile it to SQL, rank and highlight (DESIGN §4). */
export type {
  AndNode,
  DateNode,
  FieldNode,
  HasAttachmentNode,
  LeafNode,
  NotNode,
  OrNode,
  PhraseNode,
  QueryNode,
  ValueField,
  WordNode,
} from "./ast";
export { KNOWN_OPERATORS, VALUE_FIELDS } from "./ast";
export { GRAM_OVERFLOW, gramsMatchSql, phraseGrams } from "./common-grams";
export { compileWhere, isIndexableText, textQuery } from "./compile";
export { isRealDate, startOfUtcDay } from "./dates";
export { isQueryError, QueryError } from "./errors";
export { MAX_QUERY_TERMS, parseQuery } from "./parser";
export {
  HEADLINE_SOURCE_CHARS,
  headlineSql,
  PLAIN_SNIPPET_CHARS,
  positiveTextQueries,
  rankSql,
} from "./ranking";
export {
  buildSearchVectorSql,
  compoundParts,
  MAX_COMPOUND_TOKENS,
  MAX_INDEXED_BODY_CHARS,
  prepareSearchTexts,
} from "./search-vector";
export type { SearchTexts, SearchVectorInput } from "./search-vector";
export {
  HIGHLIGHT_START,
  HIGHLIGHT_STOP,
  cutBetweenCharacters,
  snippetSegments,
  snippetToHtml,
  snippetToPlainText,
} from "./snippet";
export { configSql, containsPattern, SEARCH_CONFIG } from "./sql-helpers";
export type { QuerySqlOptions } from "./sql-helpers";
export { MAX_QUERY_LENGTH, tokenize } from "./tokenizer";
export type { Token } from "./tokenizer";
