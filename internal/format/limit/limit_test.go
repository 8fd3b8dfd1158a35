package limit

import "testing"

func TestParseSize(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"123", 123, true}, {"16MiB", 16 << 20, true}, {"2K", 2 << 10, true}, {"1GiB", 1 << 30, true}, {"0", 0, true},
		{"", 0, false}, {"lots", 0, false}, {"-1", 0, false}, {"1.5MiB", 0, false}, {"99999999999GiB", 0, false},
	} {
		got, err := ParseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
		if tt.ok && tt.want > 0 {
			if back, err := ParseSize(Size(tt.want)); err != nil || back != tt.want {
				t.Errorf("Size(%d) = %q reads back as %d, %v", tt.want, Size(tt.want), back, err)
			}
		}
	}
}

func TestErrorNamesTheLimit(t *testing.T) {
	e := &Error{Name: "max-fastq-line", What: "line 2", Limit: 16 << 20, Bytes: true}
	if got, want := e.Error(), "line 2 exceeds the limit max-fastq-line=16MiB; raise that setting to accept the file"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	e = &Error{Name: "max-references", What: "the header's 5 reference sequences", Limit: 4}
	if got, want := e.Error(), "the header's 5 reference sequences exceeds the limit max-references=4; raise that setting to accept the file"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
