package api

import (
	"context"
	"strconv"
	"strings"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/api/omicsapi"
	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/reference"
)

// StartReferenceImportJob implements POST /referencestore/{referenceStoreId}/importjob.
func (s *Server) StartReferenceImportJob(ctx context.Context, in *omicsapi.StartReferenceImportJobInput) (*omicsapi.StartReferenceImportJobOutput, error) {
	req := *in
	req.ClientToken = ""
	return idempotent(ctx, s, "StartReferenceImportJob", in.ClientToken, req, func() (*omicsapi.StartReferenceImportJobOutput, error) {
		sources := make([]reference.ImportSource, len(in.Sources))
		for i, src := range in.Sources {
			sources[i] = reference.ImportSource{SourceFile: src.SourceFile, Name: src.Name, Description: src.Description, Tags: src.Tags}
		}
		j, err := s.refs.StartImport(ctx, account(ctx), in.ReferenceStoreId, in.RoleArn, sources)
		if err != nil {
			return nil, err
		}
		return &omicsapi.StartReferenceImportJobOutput{
			Id:               j.ID,
			ReferenceStoreId: j.StoreID,
			RoleArn:          j.RoleArn,
			Status:           omicsapi.ReferenceImportJobStatus(j.Status),
			CreationTime:     omicsapi.NewTime(j.CreatedAt),
		}, nil
	})
}

// GetReferenceImportJob implements GET /referencestore/{referenceStoreId}/importjob/{id}.
func (s *Server) GetReferenceImportJob(ctx context.Context, in *omicsapi.GetReferenceImportJobInput) (*omicsapi.GetReferenceImportJobOutput, error) {
	j, err := s.refs.GetImport(ctx, account(ctx), in.ReferenceStoreId, in.Id)
	if err != nil {
		return nil, err
	}
	out := &omicsapi.GetReferenceImportJobOutput{
		Id:               j.ID,
		ReferenceStoreId: j.StoreID,
		RoleArn:          j.RoleArn,
		Status:           omicsapi.ReferenceImportJobStatus(j.Status),
		StatusMessage:    j.StatusMessage,
		CreationTime:     omicsapi.NewTime(j.CreatedAt),
		CompletionTime:   completionTime(j.Job),
		Sources:          make([]omicsapi.ImportReferenceSourceItem, 0, len(j.Sources)),
	}
	for _, src := range j.Sources {
		out.Sources = append(out.Sources, omicsapi.ImportReferenceSourceItem{
			SourceFile:    src.SourceFile,
			Status:        omicsapi.ReferenceImportJobItemStatus(src.Status),
			StatusMessage: src.StatusMessage,
			Name:          src.Name,
			Description:   src.Description,
			Tags:          src.Tags,
			ReferenceId:   src.ReferenceID,
		})
	}
	return out, nil
}

// ListReferenceImportJobs implements POST /referencestore/{referenceStoreId}/importjobs.
func (s *Server) ListReferenceImportJobs(ctx context.Context, in *omicsapi.ListReferenceImportJobsInput) (*omicsapi.ListReferenceImportJobsOutput, error) {
	var f meta.JobFilter
	if in.Filter != nil {
		f = meta.JobFilter{Status: string(in.Filter.Status), Created: timeRange(in.Filter.CreatedAfter, in.Filter.CreatedBefore)}
	}
	jobs, next, err := s.listJobs(ctx, "ListReferenceImportJobs", in.ReferenceStoreId, f, in.NextToken, in.MaxResults, s.refs.ListImports)
	if err != nil {
		return nil, err
	}
	out := &omicsapi.ListReferenceImportJobsOutput{NextToken: next, ImportJobs: make([]omicsapi.ImportReferenceJobItem, 0, len(jobs))}
	for _, j := range jobs {
		out.ImportJobs = append(out.ImportJobs, omicsapi.ImportReferenceJobItem{
			Id:               j.ID,
			ReferenceStoreId: j.StoreID,
			RoleArn:          j.RoleArn,
			Status:           omicsapi.ReferenceImportJobStatus(j.Status),
			CreationTime:     omicsapi.NewTime(j.CreatedAt),
			CompletionTime:   completionTime(j),
		})
	}
	return out, nil
}

func (s *Server) referenceFileInfo(ref *seqstore.Reference, kind string) *omicsapi.FileInformation {
	f, ok := ref.File(kind)
	if !ok {
		return nil
	}
	return &omicsapi.FileInformation{TotalParts: ptr(int32(f.TotalParts())), PartSize: ptr(f.PartSize), ContentLength: ptr(f.ContentLength),
		S3Access: &omicsapi.ReadSetS3Access{S3Uri: s.svc.ReferenceFileS3URI(ref.AccountID, ref.StoreID, ref.ID, f.Name)}}
}

// GetReferenceMetadata implements GET /referencestore/{referenceStoreId}/reference/{id}/metadata.
func (s *Server) GetReferenceMetadata(ctx context.Context, in *omicsapi.GetReferenceMetadataInput) (*omicsapi.GetReferenceMetadataOutput, error) {
	ref, err := s.refs.Get(ctx, account(ctx), in.ReferenceStoreId, in.Id)
	if err != nil {
		return nil, err
	}
	item := s.referenceListItem(ref)
	out := &omicsapi.GetReferenceMetadataOutput{
		Id:               item.Id,
		Arn:              item.Arn,
		ReferenceStoreId: item.ReferenceStoreId,
		Md5:              item.Md5,
		Status:           item.Status,
		Name:             item.Name,
		Description:      item.Description,
		CreationTime:     item.CreationTime,
		UpdateTime:       item.UpdateTime,
		CreationType:     omicsapi.ReferenceCreationTypeImport,
		CreationJobId:    ref.CreationJobID,
	}
	if len(ref.Files) > 0 {
		out.Files = &omicsapi.ReferenceFiles{
			Source: s.referenceFileInfo(ref, seqstore.FileSource),
			Index:  s.referenceFileInfo(ref, seqstore.FileIndex),
		}
	}
	return out, nil
}

// GetReference implements GET /referencestore/{referenceStoreId}/reference/{id}.
func (s *Server) GetReference(ctx context.Context, in *omicsapi.GetReferenceInput) (*omicsapi.GetReferenceOutput, error) {
	var rng *reference.Range
	if in.Range != "" {
		r, ok := parseRange(in.Range)
		if !ok {
			return nil, seqstore.Errorf(seqstore.CodeValidation, "range %q is not one byte range of the part: FIRST-LAST, FIRST- or -SUFFIX", in.Range)
		}
		rng = &r
	}
	part, err := s.refs.GetPart(ctx, account(ctx), in.ReferenceStoreId, in.Id, string(in.File), int(in.PartNumber), rng)
	if err != nil {
		return nil, err
	}
	return &omicsapi.GetReferenceOutput{Payload: part.Body, ContentLength: part.Length}, nil
}

// parseRange reads one byte range as HealthOmics takes it, FIRST-LAST,
// FIRST- or -SUFFIX (the model allows digits and punctuation only), or in
// the HTTP form with "bytes=" before it.
func parseRange(h string) (reference.Range, bool) {
	spec := strings.TrimPrefix(strings.TrimSpace(h), "bytes=")
	if strings.Contains(spec, ",") {
		return reference.Range{}, false
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return reference.Range{}, false
	}
	num := func(s string) (int64, bool) {
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil && n >= 0 && s[0] != '+'
	}
	if first == "" {
		n, ok := num(last)
		if !ok || n == 0 {
			return reference.Range{}, false
		}
		return reference.Range{First: -n, Last: -1}, true
	}
	f, ok := num(first)
	if !ok {
		return reference.Range{}, false
	}
	if last == "" {
		return reference.Range{First: f, Last: -1}, true
	}
	l, ok := num(last)
	if !ok || l < f {
		return reference.Range{}, false
	}
	return reference.Range{First: f, Last: l}, true
}

// ListReferences implements POST /referencestore/{referenceStoreId}/references.
func (s *Server) ListReferences(ctx context.Context, in *omicsapi.ListReferencesInput) (*omicsapi.ListReferencesOutput, error) {
	var f meta.ReferenceFilter
	if in.Filter != nil {
		f = meta.ReferenceFilter{Name: in.Filter.Name, MD5: in.Filter.Md5, Created: timeRange(in.Filter.CreatedAfter, in.Filter.CreatedBefore)}
	}
	acct := account(ctx)
	scope := scopeOf(in.ReferenceStoreId, f)
	after, err := s.tokens.open("ListReferences", acct, scope, in.NextToken)
	if err != nil {
		return nil, err
	}
	refs, next, err := s.refs.List(ctx, acct, in.ReferenceStoreId, f, meta.Page{After: after, Limit: pageSize(in.MaxResults)})
	if err != nil {
		return nil, err
	}
	out := &omicsapi.ListReferencesOutput{NextToken: s.tokens.seal("ListReferences", acct, scope, next), References: make([]omicsapi.ReferenceListItem, 0, len(refs))}
	for _, ref := range refs {
		out.References = append(out.References, s.referenceListItem(ref))
	}
	return out, nil
}

// referenceListItem is what every reference output says of a reference.
func (s *Server) referenceListItem(ref *seqstore.Reference) omicsapi.ReferenceListItem {
	return omicsapi.ReferenceListItem{
		Id:               ref.ID,
		Arn:              s.svc.ARN.Reference(ref.AccountID, ref.StoreID, ref.ID),
		ReferenceStoreId: ref.StoreID,
		Md5:              ref.MD5,
		Status:           omicsapi.ReferenceStatus(ref.Status),
		Name:             ref.Name,
		Description:      ref.Description,
		CreationTime:     omicsapi.NewTime(ref.CreatedAt),
		UpdateTime:       omicsapi.NewTime(ref.UpdatedAt),
	}
}

// DeleteReference implements DELETE /referencestore/{referenceStoreId}/reference/{id}.
func (s *Server) DeleteReference(ctx context.Context, in *omicsapi.DeleteReferenceInput) (*omicsapi.DeleteReferenceOutput, error) {
	if err := s.refs.Delete(ctx, account(ctx), in.ReferenceStoreId, in.Id); err != nil {
		return nil, err
	}
	return &omicsapi.DeleteReferenceOutput{}, nil
}
