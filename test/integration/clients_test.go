package integration

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/testutil"
)

func TestAWSCLI(t *testing.T) {
	in := start(t, backends[0], nil)
	key := in.rootKey()
	var created struct {
		ID, Arn string
	}
	in.mustCLI(t, key, "create-sequence-store", "--name", "cli-store", "--e-tag-algorithm-family", "SHA512up", "--tags", "team=cli").json(t, &created)
	if len(created.ID) != 10 {
		t.Fatalf("create returned %+v", created)
	}
	var got map[string]any
	in.mustCLI(t, key, "get-sequence-store", "--id", created.ID).json(t, &got)
	if got["name"] != "cli-store" || got["eTagAlgorithmFamily"] != "SHA512up" {
		t.Errorf("get-sequence-store: %v", got)
	}
	in.mustCLI(t, key, "update-sequence-store", "--id", created.ID, "--description", "via the CLI")
	var list struct {
		SequenceStores []map[string]any
	}
	in.mustCLI(t, key, "list-sequence-stores", "--filter", "name=cli-store").json(t, &list)
	if len(list.SequenceStores) != 1 || list.SequenceStores[0]["description"] != "via the CLI" {
		t.Errorf("list-sequence-stores: %+v", list)
	}
	in.mustCLI(t, key, "tag-resource", "--resource-arn", created.Arn, "--tags", "stage=test")
	in.mustCLI(t, key, "untag-resource", "--resource-arn", created.Arn, "--tag-keys", "team")
	var tags struct{ Tags map[string]string }
	in.mustCLI(t, key, "list-tags-for-resource", "--resource-arn", created.Arn).json(t, &tags)
	if len(tags.Tags) != 1 || tags.Tags["stage"] != "test" {
		t.Errorf("tags: %v", tags.Tags)
	}
	var ref struct{ ID string }
	in.mustCLI(t, key, "create-reference-store", "--name", "cli-refs").json(t, &ref)
	in.mustCLI(t, key, "get-reference-store", "--id", ref.ID)
	in.mustCLI(t, key, "list-reference-stores")
	in.mustCLI(t, key, "delete-reference-store", "--id", ref.ID)

	errs := []struct {
		name string
		args []string
		code string
	}{
		{"a missing store", []string{"get-sequence-store", "--id", "9999999999"}, "ResourceNotFoundException"},
		{"a malformed ID", []string{"get-sequence-store", "--id", "abcdefghij"}, "ValidationException"},
		{"a second reference store", nil, ""},
	}
	for _, e := range errs {
		if e.args == nil {
			continue
		}
		t.Run(e.name, func(t *testing.T) {
			r := in.cli(t, key, e.args...)
			// AWS CLI v2 exits 254 on a service error, v1 255.
			if (r.exitCode != 254 && r.exitCode != 255) || !strings.Contains(r.stderr, "("+e.code+")") {
				t.Fatalf("exit %d, stderr %q; want 254 or 255 and %s", r.exitCode, r.stderr, e.code)
			}
		})
	}
	var store struct {
		S3Access struct{ S3AccessPointArn string }
	}
	in.mustCLI(t, key, "get-sequence-store", "--id", created.ID).json(t, &store)
	ap := store.S3Access.S3AccessPointArn
	in.mustCLI(t, key, "put-s3-access-policy", "--s3-access-point-arn", ap, "--s3-access-policy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"210987654321"},"Action":"s3:GetObject","Resource":"*"}]}`)
	var policy struct{ S3AccessPolicy string }
	in.mustCLI(t, key, "get-s3-access-policy", "--s3-access-point-arn", ap).json(t, &policy)
	if policy.S3AccessPolicy != `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"210987654321"},"Action":"s3:GetObject","Resource":"*"}]}` {
		t.Errorf("policy %q", policy.S3AccessPolicy)
	}
	in.mustCLI(t, key, "delete-s3-access-policy", "--s3-access-point-arn", ap)
	in.mustCLI(t, key, "delete-sequence-store", "--id", created.ID)

	bad := key
	bad.Secret = "wrong" + bad.Secret
	r := in.cli(t, bad, "list-sequence-stores")
	if r.exitCode == 0 || !strings.Contains(r.stderr, "InvalidSignatureException") {
		t.Errorf("wrong secret: exit %d, %q", r.exitCode, r.stderr)
	}
	bad = key
	bad.ID = "SQUNKNOWNKEY00000000"
	r = in.cli(t, bad, "list-sequence-stores")
	if r.exitCode == 0 || !strings.Contains(r.stderr, "UnrecognizedClientException") {
		t.Errorf("unknown key: exit %d, %q", r.exitCode, r.stderr)
	}
}

func TestBoto3(t *testing.T) {
	in := start(t, backends[0], nil)
	out := in.python(t, in.rootKey(), "boto3_stores.py")
	var s map[string]any
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	checks := map[string]any{
		"name":             "boto3-store",
		"family":           "MD5up",
		"creationTimeType": "datetime",
		"notFound":         "ResourceNotFoundException",
		"notFoundStatus":   float64(404),
		"validation":       "ValidationException",
		"referenceStore":   "boto3-refs",
		"listed":           float64(1),
	}
	for k, want := range checks {
		if s[k] != want {
			t.Errorf("%s = %v, want %v", k, s[k], want)
		}
	}
	if tags, _ := s["tags"].(map[string]any); len(tags) != 1 || tags["stage"] != "test" {
		t.Errorf("tags = %v", s["tags"])
	}
	if id, _ := s["requestId"].(string); id == "" {
		t.Errorf("error response carried no request ID")
	}
	if msg, _ := s["validationMessage"].(string); !strings.Contains(msg, "name") {
		t.Errorf("validation message %q does not name the member", msg)
	}
}

func TestJavaScriptSDK(t *testing.T) {
	node := testutil.RequireTool(t, "node")
	dir, err := filepath.Abs("../js")
	if err != nil {
		t.Fatal(err)
	}
	testutil.RequireDir(t, filepath.Join(dir, "node_modules", "@aws-sdk", "client-omics"))
	in := start(t, backends[0], nil)
	key := in.rootKey()
	cmd := exec.Command(node, "smoke.mjs")
	cmd.Dir = dir
	cmd.Env = append(testutil.EnvWithoutAWS(), "SEQSTORE_ENDPOINT="+in.endpoint, "AWS_ACCESS_KEY_ID="+key.ID, "AWS_SECRET_ACCESS_KEY="+key.Secret, "AWS_REGION=us-east-1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("smoke.mjs: %v\n%s", err, out)
	}
	for _, step := range []string{`"step":"create"`, `"step":"tags"`, `"step":"not-found"`, `"step":"delete"`} {
		if !strings.Contains(string(out), step) {
			t.Errorf("smoke output lacks %s:\n%s", step, out)
		}
	}
}
