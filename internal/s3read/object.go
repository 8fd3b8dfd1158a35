package s3read

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// storageClassArchived is how archived objects are listed and described:
// like S3's Glacier objects, they must be restored (in seqstore: activated)
// before they are read.
const storageClassArchived = "GLACIER"

// responseOverrides are the query parameters a signed GetObject may set to
// change a header of the answer.
var responseOverrides = [][2]string{
	{"response-content-type", "Content-Type"},
	{"response-content-disposition", "Content-Disposition"},
	{"response-content-encoding", "Content-Encoding"},
	{"response-content-language", "Content-Language"},
	{"response-cache-control", "Cache-Control"},
	{"response-expires", "Expires"},
}

func (h *Handler) getObject(ctx context.Context, w http.ResponseWriter, q *request, b *Bucket) error {
	r := q.r
	o, err := h.Backend.Object(ctx, b, q.key)
	if err != nil {
		return backendError(err, q)
	}
	etag := `"` + o.ETag + `"`
	hdr := w.Header()
	hdr.Set("ETag", etag)
	hdr.Set("Last-Modified", o.LastModified.UTC().Format(http.TimeFormat))
	hdr.Set("Accept-Ranges", "bytes")
	if o.Archived {
		hdr.Set("x-amz-storage-class", storageClassArchived)
	}
	if err := checkConditions(r, etag, o.LastModified); err != nil {
		return err
	}
	if o.Archived && r.Method == http.MethodGet {
		return &Error{Code: "InvalidObjectState", Status: http.StatusForbidden,
			Message: "The operation is not valid for the object's storage class: the read set is archived; start an activation job (StartReadSetActivationJob) and read it once it is ACTIVE"}
	}
	offset, length, partial, err := parseRange(r.Header.Get("Range"), o.Size)
	if err != nil {
		return err
	}
	hdr.Set("Content-Type", "binary/octet-stream")
	query := r.URL.Query()
	for _, o := range responseOverrides {
		if v := query.Get(o[0]); v != "" {
			hdr.Set(o[1], v)
		}
	}
	hdr.Set("Content-Length", strconv.FormatInt(length, 10))
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
		hdr.Set("Content-Range", "bytes "+strconv.FormatInt(offset, 10)+"-"+strconv.FormatInt(offset+length-1, 10)+"/"+strconv.FormatInt(o.Size, 10))
	}
	if r.Method == http.MethodHead || length == 0 {
		w.WriteHeader(status)
		return nil
	}
	body, err := h.Backend.Open(ctx, b, o, offset, length)
	if err != nil {
		return backendError(err, q)
	}
	defer body.Close()
	w.WriteHeader(status)
	// Once the status is out, a failure can only cut the answer short:
	// the client sees fewer bytes than Content-Length said.
	if n, err := io.Copy(w, body); err != nil || n != length {
		if h.Log != nil && ctx.Err() == nil {
			h.Log.Warn("s3 GetObject cut short", "bucket", q.bucket, "key", q.key, "sent", n, "of", length, "err", err, "requestId", q.id)
		}
		panic(http.ErrAbortHandler)
	}
	return nil
}

// checkConditions applies If-Match, If-Unmodified-Since, If-None-Match and
// If-Modified-Since in RFC 9110's order, as S3 does: a failed If-Match (or,
// without one, If-Unmodified-Since) is 412 PreconditionFailed; a matching
// If-None-Match (or, without one, an unchanged If-Modified-Since) is 304.
func checkConditions(r *http.Request, etag string, modified time.Time) error {
	modified = modified.UTC().Truncate(time.Second)
	failed := &Error{Code: "PreconditionFailed", Status: http.StatusPreconditionFailed, Message: "At least one of the pre-conditions you specified did not hold"}
	notModified := &Error{Code: "NotModified", Status: http.StatusNotModified, Message: "Not Modified"}
	if im := r.Header.Get("If-Match"); im != "" {
		if !etagListMatches(im, etag) {
			return failed
		}
	} else if ius := r.Header.Get("If-Unmodified-Since"); ius != "" {
		if t, err := http.ParseTime(ius); err == nil && modified.After(t) {
			return failed
		}
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if etagListMatches(inm, etag) {
			return notModified
		}
	} else if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		if t, err := http.ParseTime(ims); err == nil && !modified.After(t) {
			return notModified
		}
	}
	return nil
}

// etagListMatches reports whether a comma-separated list of entity tags
// (quoted or not, weak or strong) holds etag, or is "*".
func etagListMatches(list, etag string) bool {
	want := strings.Trim(etag, `"`)
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		t = strings.TrimPrefix(t, "W/")
		if t == "*" || strings.Trim(t, `"`) == want {
			return true
		}
	}
	return false
}

// parseRange reads one byte range, bytes=FIRST-LAST, bytes=FIRST- or
// bytes=-SUFFIX, against an object of size bytes. A header that is absent,
// malformed or asks for several ranges is ignored (the whole object is
// sent), as S3 does; a range that starts past the end is InvalidRange (416).
func parseRange(h string, size int64) (offset, length int64, partial bool, err error) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return 0, size, false, nil
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return 0, size, false, nil
	}
	num := func(s string) (int64, bool) {
		if s == "" || s[0] < '0' || s[0] > '9' {
			return 0, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	unsatisfiable := &Error{Code: "InvalidRange", Status: http.StatusRequestedRangeNotSatisfiable,
		Message: "The requested range is not satisfiable", header: http.Header{"Content-Range": {"bytes */" + strconv.FormatInt(size, 10)}}}
	switch {
	case first == "":
		n, ok := num(last)
		if !ok {
			return 0, size, false, nil
		}
		if n == 0 {
			return 0, 0, false, unsatisfiable
		}
		n = min(n, size)
		return size - n, n, true, nil
	default:
		start, ok := num(first)
		if !ok {
			return 0, size, false, nil
		}
		end := size - 1
		if last != "" {
			e, ok := num(last)
			if !ok || e < start {
				return 0, size, false, nil
			}
			end = min(e, size-1)
		}
		if start >= size {
			return 0, 0, false, unsatisfiable
		}
		return start, end - start + 1, true, nil
	}
}
