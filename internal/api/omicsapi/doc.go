// Package omicsapi is seqstore's wire layer for the AWS HealthOmics storage
// API (restJson1, API version 2022-11-28): it turns HTTP requests from the
// AWS SDKs and CLI into typed, validated calls of a Handler and turns the
// results back into the responses those clients parse.
//
// Most of it is generated from the service model by ../apigen (files ending in
// _gen.go: types, enums, error constructors, validators, Handler, the operation
// table, the router and the response encoders). The hand-written files beside
// them hold what the generated code runs on: Time, Error, the router's request
// flow (routing on method and path only, since clients prepend host prefixes
// such as control-storage-), validation messages in the form AWS uses, and the
// JSON encoding helpers.
//
// Responses are encoded by generated code rather than encoding/json so the
// hot path does no reflection; request bodies are decoded with encoding/json,
// whose type errors are reported as ValidationException naming the member.
package omicsapi
