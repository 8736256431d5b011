// Dataset debugging: predictions, scores and attributions over a labelled folder or manifest.
export { runDataset, checkShard, DEFAULT_ATTRIBUTE_TOP } from './run';
export { mergeDatasetReports } from './merge';
export { readDataset, parseCsv, type DatasetEntry, type DatasetListing, type DatasetErrorKind } from './read';
export { renderHtml } from './html';
export type * from './types';
