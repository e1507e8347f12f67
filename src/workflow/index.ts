/** Workflow definitions: the format, validation, hashing, the builder and data mapping. */
export * from './definition.js';
export { DefinitionError, validateDefinition, describeIssue, type DefinitionIssue } from './validate.js';
export { definitionHash, canonicalJson, sha256Hex } from './hash.js';
export { workflow, WorkflowBuilder } from './builder.js';
export { MappingError, getPath, setPath, hasPath, resolveInput, applyOutput, parseSourcePath, type MappingSource, type MappingScope } from './mapping.js';
export { graphOf, findCycle, topologicalOrder, type DefinitionGraph } from './graph.js';
export { jsonSchema, isJsonObject, type Json, type JsonObject } from './json.js';
