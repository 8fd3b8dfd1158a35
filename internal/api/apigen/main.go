// Command apigen generates package omicsapi, seqstore's restJson1 server layer
// for the AWS HealthOmics storage API, from the botocore service model: the
// request and response types, enums, error constructors, validators, the
// Handler interface, the operation table, the router with its HTTP binding,
// and the JSON encoders of the responses.
//
// Usage (see omicsapi/generate.go):
//
//	go run ../apigen -model <service-2.json> -out .
//
// The paginators file is read from beside the model unless -paginators names
// it. Output is deterministic and gofmt'ed; generated files end in _gen.go,
// and *_gen.go files in -out that this run did not write are removed.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	modelPath := flag.String("model", "", "path of the omics service-2.json model")
	paginatorsPath := flag.String("paginators", "", "path of paginators-1.json (default: beside the model)")
	outDir := flag.String("out", ".", "directory to write the generated files into")
	flag.Parse()
	if *modelPath == "" {
		fmt.Fprintln(os.Stderr, "apigen: -model is required")
		os.Exit(2)
	}
	if err := run(*modelPath, *paginatorsPath, *outDir); err != nil {
		fmt.Fprintln(os.Stderr, "apigen:", err)
		os.Exit(1)
	}
}

// defaultPaginators names the paginators file that sits beside a model.
func defaultPaginators(modelPath string) string {
	return strings.Replace(modelPath, "service-2.json", "paginators-1.json", 1)
}

// generateFiles reads the model and returns the generated files by name.
func generateFiles(modelPath, paginatorsPath string) (map[string][]byte, error) {
	if paginatorsPath == "" {
		paginatorsPath = defaultPaginators(modelPath)
	}
	m, err := loadModel(modelPath, paginatorsPath)
	if err != nil {
		return nil, err
	}
	g, err := newGenerator(m)
	if err != nil {
		return nil, err
	}
	return g.generate()
}

func run(modelPath, paginatorsPath, outDir string) error {
	files, err := generateFiles(modelPath, paginatorsPath)
	if err != nil {
		return err
	}
	stale, err := filepath.Glob(filepath.Join(outDir, "*_gen.go"))
	if err != nil {
		return err
	}
	for _, path := range stale {
		if _, ok := files[filepath.Base(path)]; !ok {
			if err := os.Remove(path); err != nil {
				return err
			}
		}
	}
	var names []string
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(outDir, name), files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}
