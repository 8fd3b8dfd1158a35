package api

import (
	"context"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/api/omicsapi"
	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/readset"
)

func ptr[T any](v T) *T { return &v }

func (s *Server) fileInfo(rs *seqstore.ReadSet, kind string) *omicsapi.FileInformation {
	f, ok := rs.File(kind)
	if !ok {
		return nil
	}
	return &omicsapi.FileInformation{
		TotalParts:    ptr(int32(f.TotalParts())),
		PartSize:      ptr(f.PartSize),
		ContentLength: ptr(f.ContentLength),
		S3Access:      &omicsapi.ReadSetS3Access{S3Uri: s.svc.ReadSetFileS3URI(rs.AccountID, rs.StoreID, rs.ID, f.Name)},
	}
}

func sequenceInformation(rs *seqstore.ReadSet) *omicsapi.SequenceInformation {
	si := rs.SequenceInformation
	if si == nil {
		return nil
	}
	return &omicsapi.SequenceInformation{
		TotalReadCount: ptr(si.TotalReadCount),
		TotalBaseCount: ptr(si.TotalBaseCount),
		GeneratedFrom:  si.GeneratedFrom,
		Alignment:      si.Alignment,
	}
}

func etagOf(rs *seqstore.ReadSet) *omicsapi.ETag {
	if rs.ETag == nil {
		return nil
	}
	return &omicsapi.ETag{Algorithm: omicsapi.ETagAlgorithm(rs.ETag.Algorithm), Source1: rs.ETag.Source1, Source2: rs.ETag.Source2}
}

// GetReadSetMetadata implements GET /sequencestore/{sequenceStoreId}/readset/{id}/metadata.
func (s *Server) GetReadSetMetadata(ctx context.Context, in *omicsapi.GetReadSetMetadataInput) (*omicsapi.GetReadSetMetadataOutput, error) {
	rs, err := s.rs.Get(ctx, account(ctx), in.SequenceStoreId, in.Id)
	if err != nil {
		return nil, err
	}
	out := &omicsapi.GetReadSetMetadataOutput{
		Id:                  rs.ID,
		Arn:                 s.svc.ARN.ReadSet(rs.AccountID, rs.StoreID, rs.ID),
		SequenceStoreId:     rs.StoreID,
		SubjectId:           rs.SubjectID,
		SampleId:            rs.SampleID,
		Status:              omicsapi.ReadSetStatus(rs.Status),
		Name:                rs.Name,
		Description:         rs.Description,
		FileType:            omicsapi.FileType(rs.FileType),
		CreationTime:        omicsapi.NewTime(rs.CreatedAt),
		SequenceInformation: sequenceInformation(rs),
		ReferenceArn:        rs.ReferenceArn,
		StatusMessage:       rs.StatusMessage,
		CreationType:        omicsapi.CreationType(rs.CreationType),
		Etag:                etagOf(rs),
		CreationJobId:       rs.CreationJobID,
	}
	if len(rs.Files) > 0 {
		out.Files = &omicsapi.ReadSetFiles{
			Source1: s.fileInfo(rs, seqstore.FileSource1),
			Source2: s.fileInfo(rs, seqstore.FileSource2),
			Index:   s.fileInfo(rs, seqstore.FileIndex),
		}
	}
	return out, nil
}

// GetReadSet implements GET /sequencestore/{sequenceStoreId}/readset/{id}.
func (s *Server) GetReadSet(ctx context.Context, in *omicsapi.GetReadSetInput) (*omicsapi.GetReadSetOutput, error) {
	part, err := s.rs.GetPart(ctx, account(ctx), in.SequenceStoreId, in.Id, string(in.File), int(in.PartNumber))
	if err != nil {
		return nil, err
	}
	return &omicsapi.GetReadSetOutput{Payload: part.Body, ContentLength: part.Length}, nil
}

// ListReadSets implements POST /sequencestore/{sequenceStoreId}/readsets.
func (s *Server) ListReadSets(ctx context.Context, in *omicsapi.ListReadSetsInput) (*omicsapi.ListReadSetsOutput, error) {
	var f meta.ReadSetFilter
	if in.Filter != nil {
		f = meta.ReadSetFilter{
			Name:          in.Filter.Name,
			Status:        string(in.Filter.Status),
			SampleID:      in.Filter.SampleId,
			SubjectID:     in.Filter.SubjectId,
			GeneratedFrom: in.Filter.GeneratedFrom,
			CreationType:  string(in.Filter.CreationType),
			Created:       timeRange(in.Filter.CreatedAfter, in.Filter.CreatedBefore),
		}
		if in.Filter.ReferenceArn != nil {
			f.ReferenceArn = *in.Filter.ReferenceArn
		}
	}
	acct := account(ctx)
	scope := scopeOf(in.SequenceStoreId, f)
	after, err := s.tokens.open("ListReadSets", acct, scope, in.NextToken)
	if err != nil {
		return nil, err
	}
	items, next, err := s.rs.List(ctx, acct, in.SequenceStoreId, f, meta.Page{After: after, Limit: pageSize(in.MaxResults)})
	if err != nil {
		return nil, err
	}
	out := &omicsapi.ListReadSetsOutput{
		NextToken: s.tokens.seal("ListReadSets", acct, scope, next),
		ReadSets:  make([]omicsapi.ReadSetListItem, 0, len(items)),
	}
	for _, rs := range items {
		out.ReadSets = append(out.ReadSets, omicsapi.ReadSetListItem{
			Id:                  rs.ID,
			Arn:                 s.svc.ARN.ReadSet(rs.AccountID, rs.StoreID, rs.ID),
			SequenceStoreId:     rs.StoreID,
			SubjectId:           rs.SubjectID,
			SampleId:            rs.SampleID,
			Status:              omicsapi.ReadSetStatus(rs.Status),
			Name:                rs.Name,
			Description:         rs.Description,
			ReferenceArn:        rs.ReferenceArn,
			FileType:            omicsapi.FileType(rs.FileType),
			SequenceInformation: sequenceInformation(rs),
			CreationTime:        omicsapi.NewTime(rs.CreatedAt),
			StatusMessage:       rs.StatusMessage,
			CreationType:        omicsapi.CreationType(rs.CreationType),
			Etag:                etagOf(rs),
		})
	}
	return out, nil
}

// BatchDeleteReadSet implements POST /sequencestore/{sequenceStoreId}/readset/batch/delete.
func (s *Server) BatchDeleteReadSet(ctx context.Context, in *omicsapi.BatchDeleteReadSetInput) (*omicsapi.BatchDeleteReadSetOutput, error) {
	errs, err := s.rs.BatchDelete(ctx, account(ctx), in.SequenceStoreId, in.Ids)
	if err != nil {
		return nil, err
	}
	out := &omicsapi.BatchDeleteReadSetOutput{}
	for _, e := range errs {
		out.Errors = append(out.Errors, omicsapi.ReadSetBatchError{Id: e.ID, Code: e.Code, Message: e.Message})
	}
	return out, nil
}

func uploadItem(u *seqstore.Upload) omicsapi.MultipartReadSetUploadListItem {
	return omicsapi.MultipartReadSetUploadListItem{
		SequenceStoreId: u.StoreID,
		UploadId:        u.ID,
		SourceFileType:  omicsapi.FileType(u.SourceFileType),
		SubjectId:       u.SubjectID,
		SampleId:        u.SampleID,
		GeneratedFrom:   u.GeneratedFrom,
		ReferenceArn:    u.ReferenceArn,
		Name:            u.Name,
		Description:     u.Description,
		Tags:            u.Tags,
		CreationTime:    omicsapi.NewTime(u.CreatedAt),
	}
}

// CreateMultipartReadSetUpload implements POST /sequencestore/{sequenceStoreId}/upload.
func (s *Server) CreateMultipartReadSetUpload(ctx context.Context, in *omicsapi.CreateMultipartReadSetUploadInput) (*omicsapi.CreateMultipartReadSetUploadOutput, error) {
	req := *in
	req.ClientToken = ""
	return idempotent(ctx, s, "CreateMultipartReadSetUpload", in.ClientToken, req, func() (*omicsapi.CreateMultipartReadSetUploadOutput, error) {
		u, err := s.rs.CreateUpload(ctx, account(ctx), in.SequenceStoreId, readset.CreateUploadParams{
			SourceFileType: string(in.SourceFileType),
			SubjectID:      in.SubjectId,
			SampleID:       in.SampleId,
			GeneratedFrom:  in.GeneratedFrom,
			ReferenceArn:   in.ReferenceArn,
			Name:           in.Name,
			Description:    in.Description,
			Tags:           in.Tags,
		})
		if err != nil {
			return nil, err
		}
		it := uploadItem(u)
		return &omicsapi.CreateMultipartReadSetUploadOutput{
			SequenceStoreId: it.SequenceStoreId, UploadId: it.UploadId, SourceFileType: it.SourceFileType,
			SubjectId: it.SubjectId, SampleId: it.SampleId, GeneratedFrom: it.GeneratedFrom, ReferenceArn: it.ReferenceArn,
			Name: it.Name, Description: it.Description, Tags: it.Tags, CreationTime: it.CreationTime,
		}, nil
	})
}

// UploadReadSetPart implements PUT /sequencestore/{sequenceStoreId}/upload/{uploadId}/part.
func (s *Server) UploadReadSetPart(ctx context.Context, in *omicsapi.UploadReadSetPartInput) (*omicsapi.UploadReadSetPartOutput, error) {
	sum, err := s.rs.UploadPart(ctx, account(ctx), in.SequenceStoreId, in.UploadId, string(in.PartSource), int(in.PartNumber), in.Payload, in.ContentLength)
	if err != nil {
		return nil, proveBeforeFailing(ctx, in.Payload, err)
	}
	return &omicsapi.UploadReadSetPartOutput{Checksum: sum}, nil
}

// ListReadSetUploadParts implements POST /sequencestore/{sequenceStoreId}/upload/{uploadId}/parts.
func (s *Server) ListReadSetUploadParts(ctx context.Context, in *omicsapi.ListReadSetUploadPartsInput) (*omicsapi.ListReadSetUploadPartsOutput, error) {
	f := meta.UploadPartFilter{Source: string(in.PartSource)}
	if in.Filter != nil {
		f.Created = timeRange(in.Filter.CreatedAfter, in.Filter.CreatedBefore)
	}
	acct := account(ctx)
	scope := scopeOf(in.SequenceStoreId, in.UploadId, f)
	after, err := s.tokens.open("ListReadSetUploadParts", acct, scope, in.NextToken)
	if err != nil {
		return nil, err
	}
	items, next, err := s.rs.ListParts(ctx, acct, in.SequenceStoreId, in.UploadId, f, meta.Page{After: after, Limit: pageSize(in.MaxResults)})
	if err != nil {
		return nil, err
	}
	out := &omicsapi.ListReadSetUploadPartsOutput{
		NextToken: s.tokens.seal("ListReadSetUploadParts", acct, scope, next),
		Parts:     make([]omicsapi.ReadSetUploadPartListItem, 0, len(items)),
	}
	for _, p := range items {
		out.Parts = append(out.Parts, omicsapi.ReadSetUploadPartListItem{
			PartNumber:      int32(p.Number),
			PartSize:        p.Size,
			PartSource:      omicsapi.ReadSetPartSource(p.Source),
			Checksum:        p.Checksum,
			CreationTime:    timePtr(p.CreatedAt),
			LastUpdatedTime: timePtr(p.UpdatedAt),
		})
	}
	return out, nil
}

// CompleteMultipartReadSetUpload implements POST /sequencestore/{sequenceStoreId}/upload/{uploadId}/complete.
func (s *Server) CompleteMultipartReadSetUpload(ctx context.Context, in *omicsapi.CompleteMultipartReadSetUploadInput) (*omicsapi.CompleteMultipartReadSetUploadOutput, error) {
	parts := make([]readset.CompletedPart, len(in.Parts))
	for i, p := range in.Parts {
		parts[i] = readset.CompletedPart{Number: int(p.PartNumber), Source: string(p.PartSource), Checksum: p.Checksum}
	}
	id, err := s.rs.Complete(ctx, account(ctx), in.SequenceStoreId, in.UploadId, parts)
	if err != nil {
		return nil, err
	}
	return &omicsapi.CompleteMultipartReadSetUploadOutput{ReadSetId: id}, nil
}

// AbortMultipartReadSetUpload implements DELETE /sequencestore/{sequenceStoreId}/upload/{uploadId}/abort.
func (s *Server) AbortMultipartReadSetUpload(ctx context.Context, in *omicsapi.AbortMultipartReadSetUploadInput) (*omicsapi.AbortMultipartReadSetUploadOutput, error) {
	if err := s.rs.Abort(ctx, account(ctx), in.SequenceStoreId, in.UploadId); err != nil {
		return nil, err
	}
	return &omicsapi.AbortMultipartReadSetUploadOutput{}, nil
}

// ListMultipartReadSetUploads implements POST /sequencestore/{sequenceStoreId}/uploads.
func (s *Server) ListMultipartReadSetUploads(ctx context.Context, in *omicsapi.ListMultipartReadSetUploadsInput) (*omicsapi.ListMultipartReadSetUploadsOutput, error) {
	acct := account(ctx)
	scope := scopeOf(in.SequenceStoreId)
	after, err := s.tokens.open("ListMultipartReadSetUploads", acct, scope, in.NextToken)
	if err != nil {
		return nil, err
	}
	items, next, err := s.rs.ListUploads(ctx, acct, in.SequenceStoreId, meta.Page{After: after, Limit: pageSize(in.MaxResults)})
	if err != nil {
		return nil, err
	}
	out := &omicsapi.ListMultipartReadSetUploadsOutput{
		NextToken: s.tokens.seal("ListMultipartReadSetUploads", acct, scope, next),
		Uploads:   make([]omicsapi.MultipartReadSetUploadListItem, 0, len(items)),
	}
	for _, u := range items {
		out.Uploads = append(out.Uploads, uploadItem(u))
	}
	return out, nil
}
