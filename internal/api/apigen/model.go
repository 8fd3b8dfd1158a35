package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
)

// model is the part of a botocore service-2.json model that the generator reads.
type model struct {
	Metadata struct {
		Protocol    string `json:"protocol"`
		APIVersion  string `json:"apiVersion"`
		SigningName string `json:"signingName"`
	} `json:"metadata"`
	Operations map[string]*operation `json:"operations"`
	Shapes     map[string]*shape     `json:"shapes"`

	// paginators maps an operation name to its paginator, from paginators-1.json.
	paginators map[string]paginator
}

type operation struct {
	Name string `json:"name"`
	HTTP struct {
		Method       string `json:"method"`
		RequestURI   string `json:"requestUri"`
		ResponseCode int    `json:"responseCode"`
	} `json:"http"`
	Input         *memberRef  `json:"input"`
	Output        *memberRef  `json:"output"`
	Errors        []memberRef `json:"errors"`
	Documentation string      `json:"documentation"`
	Endpoint      *struct {
		HostPrefix string `json:"hostPrefix"`
	} `json:"endpoint"`
	ReadOnly        bool   `json:"readonly"`
	Idempotent      bool   `json:"idempotent"`
	UnsignedPayload bool   `json:"unsignedPayload"`
	AuthType        string `json:"authtype"`
}

func (o *operation) hostPrefix() string {
	if o.Endpoint == nil {
		return ""
	}
	return o.Endpoint.HostPrefix
}

// memberRef is a reference to a shape, as an operation's input or output or
// as a structure member, with the member's HTTP binding.
type memberRef struct {
	Shape            string `json:"shape"`
	Location         string `json:"location"`     // "uri", "querystring", "header" or "" (body)
	LocationName     string `json:"locationName"` // the label, query key or header name
	JSONValue        bool   `json:"jsonvalue"`
	IdempotencyToken bool   `json:"idempotencyToken"`
	Documentation    string `json:"documentation"`
}

type shape struct {
	Type           string      `json:"type"`
	Members        members     `json:"members"`
	Required       []string    `json:"required"`
	Member         *memberRef  `json:"member"`
	Key            *memberRef  `json:"key"`
	Value          *memberRef  `json:"value"`
	Min            json.Number `json:"min"`
	Max            json.Number `json:"max"`
	Pattern        string      `json:"pattern"`
	Enum           []string    `json:"enum"`
	Streaming      bool        `json:"streaming"`
	RequiresLength bool        `json:"requiresLength"`
	Payload        string      `json:"payload"`
	Exception      bool        `json:"exception"`
	Error          *struct {
		HTTPStatusCode int `json:"httpStatusCode"`
	} `json:"error"`
	TimestampFormat string `json:"timestampFormat"`
	Documentation   string `json:"documentation"`
}

// members keeps a structure's members in the model's order, which the
// generated structs follow so they read like the API reference.
type members []namedMember

type namedMember struct {
	Name string
	Ref  *memberRef
}

func (m *members) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("members: want a JSON object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := tok.(string)
		ref := new(memberRef)
		if err := dec.Decode(ref); err != nil {
			return fmt.Errorf("member %s: %w", name, err)
		}
		*m = append(*m, namedMember{Name: name, Ref: ref})
	}
	return nil
}

func (s *shape) required(member string) bool {
	for _, r := range s.Required {
		if r == member {
			return true
		}
	}
	return false
}

// bound parses a min or max trait; ok is false when the model sets none.
func bound(n json.Number) (v int64, ok bool) {
	if n == "" {
		return 0, false
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		f, ferr := n.Float64()
		if ferr != nil {
			panic(fmt.Sprintf("bad bound %q", n))
		}
		v = int64(f)
	}
	return v, true
}

type paginator struct {
	InputToken  string `json:"input_token"`
	OutputToken string `json:"output_token"`
	LimitKey    string `json:"limit_key"`
	ResultKey   string `json:"result_key"`
}

func loadModel(modelPath, paginatorsPath string) (*model, error) {
	data, err := os.ReadFile(modelPath)
	if err != nil {
		return nil, err
	}
	m := new(model)
	if err := json.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("%s: %w", modelPath, err)
	}
	for name, op := range m.Operations {
		if op.Name == "" {
			op.Name = name
		}
	}
	m.paginators = map[string]paginator{}
	if paginatorsPath != "" {
		data, err := os.ReadFile(paginatorsPath)
		if err != nil {
			return nil, err
		}
		var p struct {
			Pagination map[string]paginator `json:"pagination"`
		}
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, fmt.Errorf("%s: %w", paginatorsPath, err)
		}
		m.paginators = p.Pagination
	}
	return m, nil
}

// storageHostPrefixes are the host prefixes of the storage API, the part of
// the omics service that seqstore serves.
var storageHostPrefixes = map[string]bool{"storage-": true, "control-storage-": true, "tags-": true}

// storageOperations returns the in-scope operations sorted by name.
func (m *model) storageOperations() []*operation {
	var ops []*operation
	for _, op := range m.Operations {
		if storageHostPrefixes[op.hostPrefix()] {
			ops = append(ops, op)
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].Name < ops[j].Name })
	return ops
}

func (m *model) shape(name string) *shape {
	s, ok := m.Shapes[name]
	if !ok {
		panic(fmt.Sprintf("model has no shape %q", name))
	}
	return s
}

// re2Translation returns the RE2 form of a model pattern. RE2 caps counted
// repetition at 1000 and the S3 URI patterns use .{1,1024}; that is rewritten
// to the equal .{1,1000}.{0,24}. Every other construct in the storage part of
// the model is RE2 as is.
func re2Translation(pattern string) string {
	return bigRepeat.ReplaceAllStringFunc(pattern, func(m string) string {
		sub := bigRepeat.FindStringSubmatch(m)
		lo, _ := strconv.Atoi(sub[1])
		hi, _ := strconv.Atoi(sub[2])
		if hi <= 1000 || lo > 1000 {
			return m
		}
		return fmt.Sprintf(".{%d,1000}.{0,%d}", lo, hi-1000)
	})
}

var bigRepeat = regexp.MustCompile(`\.\{(\d+),(\d+)\}`)

// anchored compiles a model pattern for a whole-value match. AWS front ends
// check patterns against the whole value (Java's Matcher.matches), so
// `[0-9]+` refuses "12a"; the model's unanchored text is wrapped here.
func anchored(pattern string) (*regexp.Regexp, error) {
	return regexp.Compile(`^(?:` + re2Translation(pattern) + `)$`)
}

// allowsEmpty reports whether a string shape deliberately admits "": it sets
// no positive minimum length and its pattern matches the empty string (the
// `$|^s3://...` patterns of fallbackLocation, accessLogLocation and the
// referenceArn filter). For such members "" is a value ("clear it") distinct
// from absence, so the generated field is a *string.
func (s *shape) allowsEmpty() bool {
	if s.Type != "string" || len(s.Enum) > 0 || s.Pattern == "" {
		return false
	}
	if minLen, ok := bound(s.Min); ok && minLen > 0 {
		return false
	}
	re, err := anchored(s.Pattern)
	return err == nil && re.MatchString("")
}
