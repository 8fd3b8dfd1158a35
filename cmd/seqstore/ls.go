package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"
)

const lsUsage = `Usage: seqstore ls [flags] [STORE]

Lists the sequence stores, or with a store ID the store's read sets. The
filters are the API's: -name matches names that start with it.

Flags:
`

func runLs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cf := newClientCommand("ls", lsUsage, stderr)
	name := fs.String("name", "", "only stores or read sets whose name starts with `this`")
	status := fs.String("status", "", "only read sets in this `status` (ACTIVE, PROCESSING_UPLOAD, UPLOAD_FAILED, ...)")
	subject := fs.String("subject", "", "only read sets of this subject `ID`")
	sample := fs.String("sample", "", "only read sets of this sample `ID`")
	stores, err := parseArgs(fs, args)
	if err != nil {
		return helpRequested(err)
	}
	if len(stores) > 1 {
		fs.Usage()
		return errors.New("ls takes at most one store ID")
	}
	c, err := cf.quietClient(ctx, 1)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	if len(stores) == 0 {
		if *status != "" || *subject != "" || *sample != "" {
			return errors.New("-status, -subject and -sample filter read sets: give a store ID")
		}
		var filter *types.SequenceStoreFilter
		if *name != "" {
			filter = &types.SequenceStoreFilter{Name: name}
		}
		list, err := c.Stores(ctx, filter)
		if err != nil {
			return err
		}
		if cf.json {
			out := make([]storeJSON, len(list))
			for i, st := range list {
				out[i] = storeJSON{ID: aws.ToString(st.Id), Arn: aws.ToString(st.Arn), Name: aws.ToString(st.Name), Description: aws.ToString(st.Description),
					ETagAlgorithmFamily: string(st.ETagAlgorithmFamily), Status: string(st.Status), CreationTime: st.CreationTime}
			}
			return printJSON(stdout, out)
		}
		fmt.Fprintln(tw, "ID\tNAME\tETAG FAMILY\tCREATED")
		for _, s := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", aws.ToString(s.Id), aws.ToString(s.Name), s.ETagAlgorithmFamily, when(s.CreationTime))
		}
		return tw.Flush()
	}
	var filter *types.ReadSetFilter
	if *name != "" || *status != "" || *subject != "" || *sample != "" {
		filter = &types.ReadSetFilter{
			Name:      optionalString(*name),
			Status:    types.ReadSetStatus(strings.ToUpper(*status)),
			SubjectId: optionalString(*subject),
			SampleId:  optionalString(*sample),
		}
	}
	list, err := c.ReadSets(ctx, stores[0], filter)
	if err != nil {
		return err
	}
	if cf.json {
		out := make([]readSetJSON, len(list))
		for i, r := range list {
			out[i] = readSetJSON{ID: aws.ToString(r.Id), Arn: aws.ToString(r.Arn), SequenceStoreID: aws.ToString(r.SequenceStoreId),
				Name: aws.ToString(r.Name), Description: aws.ToString(r.Description), Status: string(r.Status), StatusMessage: aws.ToString(r.StatusMessage),
				FileType: string(r.FileType), SubjectID: aws.ToString(r.SubjectId), SampleID: aws.ToString(r.SampleId),
				ReferenceArn: aws.ToString(r.ReferenceArn), CreationTime: r.CreationTime}
			if si := r.SequenceInformation; si != nil {
				out[i].SequenceInformation = &sequenceInformation{TotalReadCount: aws.ToInt64(si.TotalReadCount), TotalBaseCount: aws.ToInt64(si.TotalBaseCount), Alignment: aws.ToString(si.Alignment)}
			}
			if e := r.Etag; e != nil {
				out[i].ETag = &etagJSON{Algorithm: string(e.Algorithm), Source1: aws.ToString(e.Source1), Source2: aws.ToString(e.Source2)}
			}
		}
		return printJSON(stdout, out)
	}
	fmt.Fprintln(tw, "ID\tNAME\tSTATUS\tTYPE\tSUBJECT\tSAMPLE\tREADS\tCREATED")
	for _, r := range list {
		reads := ""
		if r.SequenceInformation != nil && r.SequenceInformation.TotalReadCount != nil {
			reads = fmt.Sprint(*r.SequenceInformation.TotalReadCount)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", aws.ToString(r.Id), aws.ToString(r.Name), r.Status, r.FileType,
			aws.ToString(r.SubjectId), aws.ToString(r.SampleId), reads, when(r.CreationTime))
	}
	return tw.Flush()
}

// storeJSON and readSetJSON are what `seqstore ls -json` prints, with the
// API's member names.
type storeJSON struct {
	ID                  string     `json:"id"`
	Arn                 string     `json:"arn"`
	Name                string     `json:"name,omitempty"`
	Description         string     `json:"description,omitempty"`
	ETagAlgorithmFamily string     `json:"eTagAlgorithmFamily,omitempty"`
	Status              string     `json:"status,omitempty"`
	CreationTime        *time.Time `json:"creationTime,omitempty"`
}

type readSetJSON struct {
	ID                  string               `json:"id"`
	Arn                 string               `json:"arn"`
	SequenceStoreID     string               `json:"sequenceStoreId"`
	Name                string               `json:"name,omitempty"`
	Description         string               `json:"description,omitempty"`
	Status              string               `json:"status"`
	StatusMessage       string               `json:"statusMessage,omitempty"`
	FileType            string               `json:"fileType"`
	SubjectID           string               `json:"subjectId,omitempty"`
	SampleID            string               `json:"sampleId,omitempty"`
	ReferenceArn        string               `json:"referenceArn,omitempty"`
	SequenceInformation *sequenceInformation `json:"sequenceInformation,omitempty"`
	ETag                *etagJSON            `json:"etag,omitempty"`
	CreationTime        *time.Time           `json:"creationTime,omitempty"`
}

type etagJSON struct {
	Algorithm string `json:"algorithm"`
	Source1   string `json:"source1"`
	Source2   string `json:"source2,omitempty"`
}

func optionalString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func when(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
