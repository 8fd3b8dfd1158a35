package arn

import "testing"

func TestBuildAndParseRoundTrip(t *testing.T) {
	b := Builder{Partition: "aws", Region: "eu-west-2"}
	tests := []struct {
		name string
		arn  string
		want Resource
	}{
		{"a sequence store", b.SequenceStore("123456789012", "1234567890"), Resource{"aws", "eu-west-2", "123456789012", KindSequenceStore, "1234567890", ""}},
		{"a read set", b.ReadSet("123456789012", "1234567890", "9876543210"), Resource{"aws", "eu-west-2", "123456789012", KindReadSet, "1234567890", "9876543210"}},
		{"a reference store", b.ReferenceStore("123456789012", "1111111111"), Resource{"aws", "eu-west-2", "123456789012", KindReferenceStore, "1111111111", ""}},
		{"a reference", b.Reference("123456789012", "1111111111", "2222222222"), Resource{"aws", "eu-west-2", "123456789012", KindReference, "1111111111", "2222222222"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.arn)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("Parse(%q) = %+v, want %+v", tt.arn, got, tt.want)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	for _, s := range []string{
		"",
		"arn:aws:s3:::bucket",
		"arn:aws:omics:us-east-1:123456789012:workflow/123",
		"arn:aws:omics:us-east-1:123456789012:sequenceStore/abc",
		"arn:aws:omics:us-east-1:123456789012:sequenceStore/123/readSet/x",
		"arn:aws:omics:us-east-1:123456789012:sequenceStore/123/readSet",
		"arn:aws:omics:us-east-1:123456789012",
	} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", s)
		}
	}
}

func TestS3AccessPoint(t *testing.T) {
	b := Builder{Partition: "aws", Region: "us-east-1"}
	ap := b.S3AccessPoint("123456789012", "5555555555")
	if want := "arn:aws:s3:us-east-1:123456789012:accesspoint/123456789012-5555555555"; ap != want {
		t.Fatalf("got %s, want %s", ap, want)
	}
	acct, store, err := ParseS3AccessPoint(ap)
	if err != nil || acct != "123456789012" || store != "5555555555" {
		t.Fatalf("ParseS3AccessPoint = %q %q %v", acct, store, err)
	}
	for _, bad := range []string{"arn:aws:s3:us-east-1:123456789012:accesspoint/other", "arn:aws:s3:us-east-1:123456789012:accesspoint/999999999999-5555555555", "arn:aws:s3:::bucket"} {
		if _, _, err := ParseS3AccessPoint(bad); err == nil {
			t.Errorf("ParseS3AccessPoint(%q) succeeded", bad)
		}
	}
}
