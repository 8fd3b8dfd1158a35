package s3read

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxKeys is the most a listing page holds, S3's cap.
const maxKeys = 1000

type listEntry struct {
	Key          string
	LastModified string
	ETag         string
	Size         int64
	StorageClass string
}

type commonPrefix struct {
	Prefix string
}

// listResult is both ListObjects' and ListObjectsV2's answer; the members
// of the other version stay empty and are left out.
type listResult struct {
	XMLName               xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string
	Prefix                string
	Marker                *string `xml:",omitempty"`
	NextMarker            string  `xml:",omitempty"`
	StartAfter            string  `xml:",omitempty"`
	ContinuationToken     string  `xml:",omitempty"`
	NextContinuationToken string  `xml:",omitempty"`
	KeyCount              *int    `xml:",omitempty"`
	MaxKeys               int
	Delimiter             string `xml:",omitempty"`
	EncodingType          string `xml:",omitempty"`
	IsTruncated           bool
	Contents              []listEntry
	CommonPrefixes        []commonPrefix
}

// A continuation token says where the last page ended: after a key
// ("k" + key), or after every key under a common prefix ("p" + prefix).
func encodeToken(kind byte, s string) string {
	return base64.RawURLEncoding.EncodeToString(append([]byte{kind}, s...))
}

func decodeToken(t string) (kind byte, s string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil || len(b) == 0 || (b[0] != 'k' && b[0] != 'p') {
		return 0, "", false
	}
	return b[0], string(b[1:]), true
}

func invalidArgument(msg string) *Error {
	return &Error{Code: "InvalidArgument", Status: http.StatusBadRequest, Message: msg}
}

// list answers ListObjectsV2 (list-type=2) and ListObjects.
func (h *Handler) list(ctx context.Context, w http.ResponseWriter, q *request, b *Bucket) error {
	query := q.r.URL.Query()
	v2 := query.Get("list-type") == "2"
	prefix, delimiter := query.Get("prefix"), query.Get("delimiter")
	encoding := query.Get("encoding-type")
	if encoding != "" && encoding != "url" {
		return invalidArgument("Invalid Encoding Method specified in Request: encoding-type must be url")
	}
	limit := maxKeys
	if s := query.Get("max-keys"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return invalidArgument("max-keys must be a whole number from 0 to 1000, not " + strconv.Quote(s))
		}
		limit = min(n, maxKeys)
	}
	// Where the page starts: after this key, and past every key under
	// skipPrefix (a common prefix the last page ended on).
	var after, skipPrefix string
	res := listResult{Name: b.Name, Prefix: prefix, Delimiter: delimiter, MaxKeys: limit, EncodingType: encoding}
	if v2 {
		after = query.Get("start-after")
		res.StartAfter = after
		if t := query.Get("continuation-token"); t != "" {
			kind, s, ok := decodeToken(t)
			if !ok {
				return invalidArgument("The continuation token provided is incorrect")
			}
			res.ContinuationToken = t
			after = s
			if kind == 'p' {
				skipPrefix = s
			}
		}
	} else {
		marker := query.Get("marker")
		res.Marker = &marker
		after = marker
		if delimiter != "" && strings.HasSuffix(marker, delimiter) && strings.HasPrefix(marker, prefix) {
			// A NextMarker that is a common prefix: skip what is under it.
			skipPrefix = marker
		}
	}
	var last string
	var lastKind byte
	count := 0
	err := h.Backend.List(ctx, b, prefix, after, func(o *Object) error {
		if skipPrefix != "" && strings.HasPrefix(o.Key, skipPrefix) {
			return nil
		}
		if delimiter != "" {
			if i := strings.Index(o.Key[len(prefix):], delimiter); i >= 0 {
				cp := o.Key[:len(prefix)+i+len(delimiter)]
				if lastKind == 'p' && cp == last {
					return nil
				}
				if count == limit {
					res.IsTruncated = true
					return ErrStop
				}
				res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{Prefix: cp})
				last, lastKind = cp, 'p'
				count++
				return nil
			}
		}
		if count == limit {
			res.IsTruncated = true
			return ErrStop
		}
		e := listEntry{Key: o.Key, LastModified: o.LastModified.UTC().Format(time.RFC3339Nano), ETag: `"` + o.ETag + `"`, Size: o.Size, StorageClass: "STANDARD"}
		if o.Archived {
			e.StorageClass = storageClassArchived
		}
		res.Contents = append(res.Contents, e)
		last, lastKind = o.Key, 'k'
		count++
		return nil
	})
	if err != nil && err != ErrStop {
		return backendError(err, q)
	}
	if res.IsTruncated {
		if v2 {
			res.NextContinuationToken = encodeToken(lastKind, last)
		} else if delimiter != "" {
			res.NextMarker = last
		}
	}
	if v2 {
		res.KeyCount = &count
	}
	if encoding == "url" {
		esc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
		res.Prefix, res.Delimiter, res.StartAfter, res.NextMarker = esc(res.Prefix), esc(res.Delimiter), esc(res.StartAfter), esc(res.NextMarker)
		if res.Marker != nil {
			m := esc(*res.Marker)
			res.Marker = &m
		}
		for i := range res.Contents {
			res.Contents[i].Key = esc(res.Contents[i].Key)
		}
		for i := range res.CommonPrefixes {
			res.CommonPrefixes[i].Prefix = esc(res.CommonPrefixes[i].Prefix)
		}
	}
	return writeXML(w, http.StatusOK, res)
}
