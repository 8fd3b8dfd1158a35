package omicsapi

// The model lives in the shared folder beside the repository (../shared from
// the repository root), both here and in CI.
//go:generate go run ../apigen -model ../../../../shared/spec/omics-2022-11-28.service-2.json -out .
