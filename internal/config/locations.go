package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/seqstore/seqstore/internal/format/limit"
	"github.com/seqstore/seqstore/internal/location"
)

// Transfers say where import and export jobs may read and write, and how
// their bytes travel.
type Transfers struct {
	// FileRoots are directories every account's jobs may read and write
	// (-file-root, repeatable).
	FileRoots []string
	// LocationsFile is a JSON file of file roots and buckets, each scoped
	// to accounts if need be (-locations).
	LocationsFile string
	PartSize      int64
	Concurrency   int
}

// locationsUsage documents -locations, the format of its file included.
const locationsUsage = "JSON `file` of the places import and export jobs may reach, each scoped to accounts if need be " +
	`(SEQSTORE_LOCATIONS): {"fileRoots": [{"dir": "/abs/dir", "accounts": ["111122223333"]}], ` +
	`"buckets": [{"name": "b", "endpoint": "http://host:9000", "region": "us-east-1", "pathStyle": true, ` +
	`"accessKeyId": "...", "secretAccessKey": "...", "accounts": ["111122223333"]}, {"name": "c", "profile": "p"}], "denyUnlistedBuckets": true}. ` +
	"No accounts: every account. Unlisted buckets use the AWS_* environment and shared files unless denyUnlistedBuckets"

// Bounds of the transfer settings: a part of at least 64 KiB keeps the
// requests per GiB reasonable, and of at most 5 GiB is one S3 accepts.
const (
	minTransferPartSize    = 64 << 10
	maxTransferPartSize    = 5 << 30
	maxTransferConcurrency = 64
)

// registerTransfers defines the flags of import and export jobs.
func (c *Config) registerTransfers(fs *flag.FlagSet) {
	t := &c.Transfers
	if roots := env("FILE_ROOT", ""); roots != "" {
		t.FileRoots = filepath.SplitList(roots)
	}
	envRoots := true
	fs.Func("file-root", "`directory` whose files import and export jobs of every account may read and write; repeat for more "+
		"(SEQSTORE_FILE_ROOT, several separated by "+string(os.PathListSeparator)+"); none by default", func(dir string) error {
		if envRoots { // the flags replace the variable's list
			t.FileRoots, envRoots = nil, false
		}
		t.FileRoots = append(t.FileRoots, dir)
		return nil
	})
	fs.StringVar(&t.LocationsFile, "locations", env("LOCATIONS", ""), locationsUsage)
	t.PartSize = location.DefaultPartSize
	if text := env("TRANSFER_PART_SIZE", ""); text != "" {
		n, err := limit.ParseSize(text)
		if err != nil {
			c.envErrs = append(c.envErrs, fmt.Errorf("SEQSTORE_TRANSFER_PART_SIZE: %v", err))
		}
		t.PartSize = n
	}
	fs.Func("transfer-part-size", "`size` of one ranged GET and one multipart part of an import or export (bytes, or with KiB, MiB, GiB; "+
		"uploads use at least 5MiB); each transfer holds up to this times -transfer-concurrency in memory (SEQSTORE_TRANSFER_PART_SIZE; default "+
		limit.Size(location.DefaultPartSize)+")", func(text string) error {
		n, err := limit.ParseSize(text)
		t.PartSize = n
		return err
	})
	fs.IntVar(&t.Concurrency, "transfer-concurrency", c.envInt("TRANSFER_CONCURRENCY", location.DefaultConcurrency),
		"parts of one import or export that travel at once (SEQSTORE_TRANSFER_CONCURRENCY)")
}

// finish checks the transfer settings and the -locations file.
func (t *Transfers) finish() error {
	if t.PartSize < minTransferPartSize || t.PartSize > maxTransferPartSize {
		return fmt.Errorf("-transfer-part-size %s: use between %s and %s", limit.Size(t.PartSize), limit.Size(minTransferPartSize), limit.Size(maxTransferPartSize))
	}
	if t.Concurrency < 1 || t.Concurrency > maxTransferConcurrency {
		return fmt.Errorf("-transfer-concurrency %d: use between 1 and %d", t.Concurrency, maxTransferConcurrency)
	}
	for i, dir := range t.FileRoots {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return fmt.Errorf("-file-root %q: %v", dir, err)
		}
		t.FileRoots[i] = abs
	}
	_, err := t.Locations()
	return err
}

// locationsFile is the JSON form of -locations.
type locationsFile struct {
	FileRoots []struct {
		Dir      string   `json:"dir"`
		Accounts []string `json:"accounts"`
	} `json:"fileRoots"`
	Buckets []struct {
		Name            string   `json:"name"`
		Endpoint        string   `json:"endpoint"`
		Region          string   `json:"region"`
		Profile         string   `json:"profile"`
		AccessKeyID     string   `json:"accessKeyId"`
		SecretAccessKey string   `json:"secretAccessKey"`
		PathStyle       bool     `json:"pathStyle"`
		Accounts        []string `json:"accounts"`
	} `json:"buckets"`
	DenyUnlistedBuckets bool `json:"denyUnlistedBuckets"`
}

// maxLocationsFile bounds the -locations file read into memory.
const maxLocationsFile = 4 << 20

// Locations returns the configuration of package location; see
// Transfers.Locations.
func (c *Config) Locations() (location.Config, error) { return c.Transfers.Locations() }

// Locations returns the places import and export jobs may reach: the
// -file-root directories, for every account, and what the -locations file
// lists. It reads the file each time it is called.
func (t *Transfers) Locations() (location.Config, error) {
	lc := location.Config{PartSize: t.PartSize, Concurrency: t.Concurrency}
	for _, dir := range t.FileRoots {
		lc.FileRoots = append(lc.FileRoots, location.FileRoot{Dir: dir})
	}
	if t.LocationsFile == "" {
		return lc, nil
	}
	file, err := readLocations(t.LocationsFile)
	if err != nil {
		return location.Config{}, fmt.Errorf("-locations %s: %w", t.LocationsFile, err)
	}
	var errs []error
	for i, r := range file.FileRoots {
		if !filepath.IsAbs(r.Dir) {
			errs = append(errs, fmt.Errorf("fileRoots[%d]: dir %q must be an absolute path", i, r.Dir))
		}
		errs = append(errs, checkAccounts(fmt.Sprintf("fileRoots[%d]", i), r.Accounts))
		lc.FileRoots = append(lc.FileRoots, location.FileRoot{Dir: r.Dir, Accounts: r.Accounts})
	}
	for i, b := range file.Buckets {
		where := fmt.Sprintf("buckets[%d] (%q)", i, b.Name)
		if b.Name == "" {
			errs = append(errs, fmt.Errorf("buckets[%d]: name is missing", i))
		}
		if (b.AccessKeyID == "") != (b.SecretAccessKey == "") {
			errs = append(errs, fmt.Errorf("%s: give accessKeyId and secretAccessKey together, or neither", where))
		}
		if b.Profile != "" && b.AccessKeyID != "" {
			errs = append(errs, fmt.Errorf("%s: give a profile or keys, not both", where))
		}
		if b.Endpoint != "" && !strings.HasPrefix(b.Endpoint, "http://") && !strings.HasPrefix(b.Endpoint, "https://") {
			errs = append(errs, fmt.Errorf("%s: endpoint %q must be an http:// or https:// URL", where, b.Endpoint))
		}
		errs = append(errs, checkAccounts(where, b.Accounts))
		lc.Buckets = append(lc.Buckets, location.Bucket{Name: b.Name, Endpoint: b.Endpoint, Region: b.Region, Profile: b.Profile,
			AccessKeyID: b.AccessKeyID, SecretAccessKey: b.SecretAccessKey, PathStyle: b.PathStyle, Accounts: b.Accounts})
	}
	lc.DenyUnlistedBuckets = file.DenyUnlistedBuckets
	if err := errors.Join(errs...); err != nil {
		return location.Config{}, fmt.Errorf("-locations %s: %w", t.LocationsFile, err)
	}
	return lc, nil
}

// readLocations reads the -locations file strictly: an unknown field is a
// misspelling, which must not silently open or close a place.
func readLocations(path string) (locationsFile, error) {
	var file locationsFile
	f, err := os.Open(path)
	if err != nil {
		return file, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxLocationsFile+1))
	if err != nil {
		return file, err
	}
	if len(data) > maxLocationsFile {
		return file, fmt.Errorf("larger than %s", limit.Size(maxLocationsFile))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		return file, fmt.Errorf("not the JSON the -locations help describes: %w", err)
	}
	if dec.More() {
		return file, errors.New("more than one JSON object")
	}
	return file, nil
}

// checkAccounts checks that each account is a 12-digit ID.
func checkAccounts(where string, accounts []string) error {
	for _, a := range accounts {
		if _, err := strconv.ParseUint(a, 10, 64); err != nil || len(a) != 12 {
			return fmt.Errorf("%s: account %q is not a 12-digit account ID", where, a)
		}
	}
	return nil
}
