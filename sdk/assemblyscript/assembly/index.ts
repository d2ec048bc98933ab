// Weir SDK for AssemblyScript plugins. Import what you need from here and
// re-export the ABI from "./abi" in your plugin's entry file.
export { Header, Record, utf8 } from "./record";
export { Batch, Output } from "./batch";
export { Aggregator, ErrorKind, Processor, Window, fail, register, registerAggregator } from "./processor";
export { LogLevel, callService, configGet, counterAdd, gaugeSet, lastServiceError, lastServiceErrorKind, log, now, state } from "./host";
export { jsonNumber, jsonString, jsonStringField } from "./json";
export { appendFile, fsErrno, listDir, makeDir, readFile, removeFile, writeFile } from "./fs";
export { HttpRequest, HttpResponse, httpError, httpErrorKind, httpSend } from "./http";
