// Package seqstore holds the domain of seqstore, a self-hosted server for the
// AWS HealthOmics storage API: the accounts that own resources, sequence
// stores and their read sets, multipart uploads, reference stores and their
// references, and the errors every layer shares. It uses the standard library
// only, so that the API layer, the metadata drivers and the ingestion
// pipeline can all depend on it without depending on each other.
package seqstore
