package omicsapi

// The model is kept in the repository, in api/omics/2022-11-28 at its root,
// so generation needs nothing outside the repository.
//go:generate go run ../apigen -model ../../../api/omics/2022-11-28/service-2.json -out .
