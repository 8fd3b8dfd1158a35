package seqstore

import "time"

// Account owns resources. Every resource lookup is scoped by account, so one
// account never sees another's stores, read sets or tags.
type Account struct {
	ID        string // 12 digits, as in AWS ARNs
	Name      string
	CreatedAt time.Time
}

// AccessKey is a SigV4 credential pair that acts for an account.
type AccessKey struct {
	ID        string // the access key ID clients send in Credential=
	Secret    string
	AccountID string
	CreatedAt time.Time
}

// Sequence store statuses, as the API spells them.
const (
	StoreStatusActive = "ACTIVE"
)

// SequenceStore holds read sets.
type SequenceStore struct {
	AccountID   string
	ID          string
	Name        string
	Description string
	// SSEType and SSEKeyArn echo the requested server-side encryption
	// settings; seqstore reports them but leaves encryption at rest to the
	// object store underneath.
	SSEType                string
	SSEKeyArn              string
	ETagAlgorithmFamily    string
	FallbackLocation       string
	PropagatedSetLevelTags []string
	AccessLogLocation      string
	Status                 string
	StatusMessage          string
	CreatedAt              time.Time
	UpdatedAt              time.Time
}

// ReferenceStore holds references. AWS allows one per account and region.
type ReferenceStore struct {
	AccountID   string
	ID          string
	Name        string
	Description string
	SSEType     string
	SSEKeyArn   string
	CreatedAt   time.Time
}

// Reference statuses.
const (
	ReferenceStatusActive   = "ACTIVE"
	ReferenceStatusDeleting = "DELETING"
	ReferenceStatusDeleted  = "DELETED"
)

// Reference is a FASTA genome in a reference store.
type Reference struct {
	AccountID     string
	StoreID       string
	ID            string
	Name          string
	Description   string
	MD5           string
	Status        string
	CreationJobID string
	Files         []StoredFile
	// Sequences are the reference's sequences in file order.
	Sequences []ReferenceSequence
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ReferenceSequence is one sequence of a reference: what a SAM @SQ line
// says of it.
type ReferenceSequence struct {
	Name   string `json:"name"`
	Length int64  `json:"length"`
	// MD5 is the SAM M5 digest: the hex MD5 of the upper-cased residues.
	MD5 string `json:"md5"`
	// GA4GH is the GA4GH identifier ("SQ." and the sha512t24u digest of
	// the same residues), by which refget also finds the sequence. Empty
	// for references imported before seqstore computed it, until refget
	// first finds the sequence by MD5.
	GA4GH string `json:"ga4gh,omitempty"`
}

// File returns the stored file of a kind, if the reference has one.
func (r *Reference) File(kind string) (StoredFile, bool) { return fileOfKind(r.Files, kind) }

// Read set statuses, as the API spells them.
const (
	ReadSetStatusArchived         = "ARCHIVED"
	ReadSetStatusActivating       = "ACTIVATING"
	ReadSetStatusActive           = "ACTIVE"
	ReadSetStatusDeleting         = "DELETING"
	ReadSetStatusDeleted          = "DELETED"
	ReadSetStatusProcessingUpload = "PROCESSING_UPLOAD"
	ReadSetStatusUploadFailed     = "UPLOAD_FAILED"
)

// Creation types.
const (
	CreationTypeUpload = "UPLOAD"
	CreationTypeImport = "IMPORT"
)

// File kinds, as the API's ReadSetFile and ReferenceFile enums spell them.
const (
	FileSource1 = "SOURCE1"
	FileSource2 = "SOURCE2"
	FileIndex   = "INDEX"
	FileSource  = "SOURCE"
)

// StoredFile is one file of a read set or reference as it is kept in the
// object store and served in parts.
type StoredFile struct {
	Kind          string // SOURCE1, SOURCE2, INDEX (read sets); SOURCE, INDEX (references)
	Key           string // object-store key
	Name          string // file name shown in s3Uri, such as sample_source1.fastq.gz
	ContentLength int64
	PartSize      int64
}

// TotalParts is how many parts of PartSize the file is served in.
func (f StoredFile) TotalParts() int {
	if f.ContentLength == 0 || f.PartSize == 0 {
		return 1
	}
	return int((f.ContentLength + f.PartSize - 1) / f.PartSize)
}

// SequenceInformation is what ingestion counted.
type SequenceInformation struct {
	TotalReadCount int64
	TotalBaseCount int64
	GeneratedFrom  string
	Alignment      string
}

// ETag is a read set's HealthOmics ETag: one digest per source.
type ETag struct {
	Algorithm string
	Source1   string
	Source2   string
}

// ReadSet is a set of genomic reads in one file (or a FASTQ pair).
type ReadSet struct {
	AccountID     string
	StoreID       string
	ID            string
	Name          string
	Description   string
	SubjectID     string
	SampleID      string
	Status        string
	StatusMessage string
	FileType      string
	ReferenceArn  string
	GeneratedFrom string
	CreationType  string
	CreationJobID string
	// UploadID names the multipart upload the read set came from.
	UploadID string
	// SourceParts are the upload's parts as CompleteMultipartReadSetUpload
	// validated them, frozen with the read set: ingestion reads exactly
	// these objects, so a part uploaded again after Complete cannot change
	// what becomes ACTIVE. Ingestion clears the list when it ends.
	SourceParts         []UploadPart
	SequenceInformation *SequenceInformation
	ETag                *ETag
	Files               []StoredFile
	Tags                map[string]string
	CreatedAt           time.Time
	UpdatedAt           time.Time
	// LastReadAt is when the read set's data was last read (GetReadSet,
	// an export), to within about an hour; its creation until then. Read
	// sets unread for the archive period are archived. ReadSetUpdate
	// leaves it as stored; ReadSetTouch moves it.
	LastReadAt time.Time
	// ActivationJobID names the activation job moving an ACTIVATING read
	// set back to ACTIVE; empty in every other status.
	ActivationJobID string
}

// File returns the stored file of a kind, if the read set has one.
func (r *ReadSet) File(kind string) (StoredFile, bool) { return fileOfKind(r.Files, kind) }

func fileOfKind(files []StoredFile, kind string) (StoredFile, bool) {
	for _, f := range files {
		if f.Kind == kind {
			return f, true
		}
	}
	return StoredFile{}, false
}

// Upload statuses.
const (
	UploadStatusInProgress = "IN_PROGRESS"
	UploadStatusCompleted  = "COMPLETED"
	UploadStatusAborted    = "ABORTED"
)

// Upload is a multipart read-set upload.
type Upload struct {
	AccountID      string
	StoreID        string
	ID             string
	Status         string
	SourceFileType string
	SubjectID      string
	SampleID       string
	GeneratedFrom  string
	ReferenceArn   string
	Name           string
	Description    string
	Tags           map[string]string
	CreatedAt      time.Time
}

// UploadPart is one uploaded part of a multipart upload.
type UploadPart struct {
	UploadID  string
	Source    string // SOURCE1 or SOURCE2
	Number    int
	Size      int64
	Checksum  string
	Key       string // object-store key of the part's bytes
	CreatedAt time.Time
	UpdatedAt time.Time
}

// S3AccessPolicy is the resource policy of a store's S3 access point, kept as
// the opaque JSON document the client sent.
type S3AccessPolicy struct {
	AccountID      string
	AccessPointArn string
	StoreID        string
	StoreType      string // SEQUENCE_STORE or REFERENCE_STORE
	Policy         string
	UpdatedAt      time.Time
}

// File types, as the API's FileType enum spells them.
const (
	FileTypeFASTQ = "FASTQ"
	FileTypeBAM   = "BAM"
	FileTypeUBAM  = "UBAM"
	FileTypeCRAM  = "CRAM"
)

// Job kinds: what a job does with its items.
const (
	JobKindReadSetImport = "READ_SET_IMPORT"
	JobKindReadSetExport = "READ_SET_EXPORT"
	// JobKindReadSetActivation jobs bring archived read sets back.
	JobKindReadSetActivation = "READ_SET_ACTIVATION"
	// JobKindReadSetArchive jobs move idle read sets to the archive tier;
	// the archive sweep starts them, and the API shows none.
	JobKindReadSetArchive = "READ_SET_ARCHIVE"
	// JobKindReferenceImport jobs work in a reference store; each item
	// imports one FASTA file as a reference.
	JobKindReferenceImport = "REFERENCE_IMPORT"
)

// Job statuses, as the API spells them for every kind of job.
const (
	JobStatusSubmitted             = "SUBMITTED"
	JobStatusInProgress            = "IN_PROGRESS"
	JobStatusCancelling            = "CANCELLING"
	JobStatusCancelled             = "CANCELLED"
	JobStatusFailed                = "FAILED"
	JobStatusCompleted             = "COMPLETED"
	JobStatusCompletedWithFailures = "COMPLETED_WITH_FAILURES"
)

// Job item statuses.
const (
	JobItemStatusNotStarted = "NOT_STARTED"
	JobItemStatusInProgress = "IN_PROGRESS"
	JobItemStatusFinished   = "FINISHED"
	JobItemStatusFailed     = "FAILED"
)

// Job is durable background work of one account: an import, an export, and
// later reference imports, activations and archival. Its items are done one
// at a time each, under a lease, by any node; the job ends when every item
// has.
type Job struct {
	AccountID string
	// StoreID is the sequence or reference store the job works in.
	StoreID       string
	ID            string
	Kind          string
	Status        string
	StatusMessage string
	RoleArn       string
	// Destination is where an export writes (an s3:// or file:// prefix).
	Destination string
	CreatedAt   time.Time
	// CompletedAt is set when the job reaches a terminal status.
	CompletedAt time.Time
	// Items are the job's items in order; lists leave them out.
	Items []JobItem
}

// JobStatusValid reports whether status is one the API spells for jobs.
func JobStatusValid(status string) bool {
	switch status {
	case JobStatusSubmitted, JobStatusInProgress, JobStatusCancelling, JobStatusCancelled,
		JobStatusFailed, JobStatusCompleted, JobStatusCompletedWithFailures:
		return true
	}
	return false
}

// JobStatusTerminal reports whether the status is one a job ends in.
func JobStatusTerminal(status string) bool {
	switch status {
	case JobStatusCompleted, JobStatusCompletedWithFailures, JobStatusFailed, JobStatusCancelled:
		return true
	}
	return false
}

// JobItemEnded reports whether an item's status is one it ends in.
func JobItemEnded(status string) bool {
	return status == JobItemStatusFinished || status == JobItemStatusFailed
}

// JobItem is one unit of a job: one import source, one exported read set.
type JobItem struct {
	JobID string
	// Index is the item's place in the request, from 0.
	Index         int
	Status        string
	StatusMessage string
	// Spec is the item's request as its kind encodes it (JSON); the job
	// engine and the metadata store keep it without reading it.
	Spec []byte
	// ReadSetID is the read set the item works on: the one an import
	// creates (chosen when the job starts, so a restarted item finds it
	// again) or the one an export reads. A reference import's item keeps
	// the ID of the reference it creates here, chosen the same way.
	ReadSetID string
	UpdatedAt time.Time
}
