export { StateStore, loadState, stateFile, readStateFile, type LoadedState, type StateSections } from './store.js';
