// Command getreadset downloads one file of a read set from seqstore the way
// AWS's transfer manager does (every part of GetReadSet, several in
// parallel, each written at its offset) and prints what it measured as one
// JSON object. bench/ingest.sh runs it beside its boto3 client: Python's
// per-chunk work caps a boto3 download well below what the server sends
// (seqstore serves parts with sendfile), so this client shows the server's
// throughput and boto3 shows a user's.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// emptyPayloadSHA256 is the hex SHA-256 of an empty body.
const emptyPayloadSHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

type client struct {
	endpoint string
	creds    aws.Credentials
	region   string
	signer   *v4.Signer
	http     *http.Client
}

// get sends a signed GET and returns the response when it is 200.
func (c *client) get(ctx context.Context, path string, query url.Values) (*http.Response, error) {
	u := c.endpoint + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if err := c.signer.SignHTTP(ctx, c.creds, req, emptyPayloadSHA256, "omics", c.region, time.Now()); err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 500))
		return nil, fmt.Errorf("GET %s: HTTP %d %s: %s", path, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), msg)
	}
	return resp, nil
}

// fileInfo is the part of GetReadSetMetadata's files entry a download needs.
type fileInfo struct {
	TotalParts    int   `json:"totalParts"`
	PartSize      int64 `json:"partSize"`
	ContentLength int64 `json:"contentLength"`
}

func (c *client) metadata(ctx context.Context, store, readSet, file string) (fileInfo, error) {
	resp, err := c.get(ctx, "/sequencestore/"+store+"/readset/"+readSet+"/metadata", nil)
	if err != nil {
		return fileInfo{}, err
	}
	defer resp.Body.Close()
	var meta struct {
		Files map[string]*fileInfo `json:"files"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&meta); err != nil {
		return fileInfo{}, fmt.Errorf("GetReadSetMetadata: %w", err)
	}
	info := meta.Files[strings.ToLower(file)]
	if info == nil || info.TotalParts < 1 || info.PartSize < 1 {
		return fileInfo{}, fmt.Errorf("read set %s has no file %s with parts", readSet, file)
	}
	return *info, nil
}

type report struct {
	Seconds  float64 `json:"seconds"`
	Bytes    int64   `json:"bytes"`
	Parts    int     `json:"parts"`
	PartSize int64   `json:"partSize"`
	Parallel int     `json:"parallel"`
}

// download fetches every part, parallel at a time, writing part n at offset
// (n-1)*partSize of out, or discarding it when out is nil; it checks each
// part's length against the metadata.
func (c *client) download(ctx context.Context, store, readSet, file string, info fileInfo, parallel int, out *os.File) (int64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	parts := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var total int64
	for range min(parallel, info.TotalParts) {
		wg.Go(func() {
			buf := make([]byte, 1<<20)
			for n := range parts {
				got, err := c.part(ctx, store, readSet, file, n, info, buf, out)
				if err != nil {
					cancel(err)
					continue
				}
				mu.Lock()
				total += got
				mu.Unlock()
			}
		})
	}
feed:
	for n := 1; n <= info.TotalParts; n++ {
		select {
		case parts <- n:
		case <-ctx.Done():
			break feed
		}
	}
	close(parts)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return total, err
	}
	if total != info.ContentLength {
		return total, fmt.Errorf("downloaded %d bytes of %s, metadata says %d", total, file, info.ContentLength)
	}
	return total, nil
}

func (c *client) part(ctx context.Context, store, readSet, file string, n int, info fileInfo, buf []byte, out *os.File) (int64, error) {
	q := url.Values{"partNumber": {fmt.Sprint(n)}, "file": {file}}
	resp, err := c.get(ctx, "/sequencestore/"+store+"/readset/"+readSet, q)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	offset := int64(n-1) * info.PartSize
	var got int64
	for {
		k, err := resp.Body.Read(buf)
		if k > 0 && out != nil {
			if _, werr := out.WriteAt(buf[:k], offset+got); werr != nil {
				return got, werr
			}
		}
		got += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			return got, fmt.Errorf("part %d: %w", n, err)
		}
	}
	if want := min(info.PartSize, info.ContentLength-offset); got != want {
		return got, fmt.Errorf("part %d of %s has %d bytes, want %d", n, file, got, want)
	}
	return got, nil
}

func run(ctx context.Context) error {
	endpoint := flag.String("endpoint", "", "seqstore `URL`")
	store := flag.String("store", "", "sequence store `ID`")
	readSet := flag.String("readset", "", "read set `ID`")
	file := flag.String("file", "SOURCE1", "SOURCE1, SOURCE2 or INDEX")
	out := flag.String("out", os.DevNull, "`file` to write, or "+os.DevNull+" to discard")
	parallel := flag.Int("parallel", 10, "parts in flight at once")
	region := flag.String("region", "us-east-1", "region to sign for")
	flag.Parse()
	if *endpoint == "" || *store == "" || *readSet == "" || *parallel < 1 {
		return errors.New("-endpoint, -store and -readset are required, -parallel at least 1")
	}
	key, secret := os.Getenv("SEQSTORE_ACCESS_KEY_ID"), os.Getenv("SEQSTORE_SECRET_ACCESS_KEY")
	if key == "" || secret == "" {
		return errors.New("set SEQSTORE_ACCESS_KEY_ID and SEQSTORE_SECRET_ACCESS_KEY")
	}
	c := &client{
		endpoint: strings.TrimRight(*endpoint, "/"),
		creds:    aws.Credentials{AccessKeyID: key, SecretAccessKey: secret},
		region:   *region,
		signer:   v4.NewSigner(),
		http: &http.Client{Transport: &http.Transport{
			MaxIdleConnsPerHost: *parallel,
			DisableCompression:  true,
			ReadBufferSize:      1 << 20,
		}},
	}
	info, err := c.metadata(ctx, *store, *readSet, *file)
	if err != nil {
		return err
	}
	var w *os.File
	if *out != os.DevNull {
		if w, err = os.Create(*out); err != nil {
			return err
		}
		defer w.Close()
	}
	start := time.Now()
	total, err := c.download(ctx, *store, *readSet, *file, info, *parallel, w)
	seconds := time.Since(start).Seconds()
	if err != nil {
		return err
	}
	if w != nil {
		if err := w.Close(); err != nil {
			return err
		}
	}
	return json.NewEncoder(os.Stdout).Encode(report{Seconds: seconds, Bytes: total, Parts: info.TotalParts, PartSize: info.PartSize, Parallel: *parallel})
}

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "getreadset:", err)
		os.Exit(1)
	}
}
