package api

import (
	"context"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/api/omicsapi"
	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/readset"
)

// completionTime is a job's completionTime: set once it ended.
func completionTime(j *seqstore.Job) *omicsapi.Time { return timePtr(j.CompletedAt) }

// StartReadSetImportJob implements POST /sequencestore/{sequenceStoreId}/importjob.
func (s *Server) StartReadSetImportJob(ctx context.Context, in *omicsapi.StartReadSetImportJobInput) (*omicsapi.StartReadSetImportJobOutput, error) {
	req := *in
	req.ClientToken = ""
	return idempotent(ctx, s, "StartReadSetImportJob", in.ClientToken, req, func() (*omicsapi.StartReadSetImportJobOutput, error) {
		sources := make([]readset.ImportSource, len(in.Sources))
		for i, src := range in.Sources {
			sources[i] = readset.ImportSource{
				FileType:      string(src.SourceFileType),
				SubjectID:     src.SubjectId,
				SampleID:      src.SampleId,
				GeneratedFrom: src.GeneratedFrom,
				ReferenceArn:  src.ReferenceArn,
				Name:          src.Name,
				Description:   src.Description,
				Tags:          src.Tags,
			}
			if src.SourceFiles != nil {
				sources[i].Source1 = src.SourceFiles.Source1
				sources[i].Source2 = src.SourceFiles.Source2
			}
		}
		j, err := s.rs.StartImport(ctx, account(ctx), in.SequenceStoreId, in.RoleArn, sources)
		if err != nil {
			return nil, err
		}
		return &omicsapi.StartReadSetImportJobOutput{
			Id:              j.ID,
			SequenceStoreId: j.StoreID,
			RoleArn:         j.RoleArn,
			Status:          omicsapi.ReadSetImportJobStatus(j.Status),
			CreationTime:    omicsapi.NewTime(j.CreatedAt),
		}, nil
	})
}

// GetReadSetImportJob implements GET /sequencestore/{sequenceStoreId}/importjob/{id}.
func (s *Server) GetReadSetImportJob(ctx context.Context, in *omicsapi.GetReadSetImportJobInput) (*omicsapi.GetReadSetImportJobOutput, error) {
	j, err := s.rs.GetImport(ctx, account(ctx), in.SequenceStoreId, in.Id)
	if err != nil {
		return nil, err
	}
	out := &omicsapi.GetReadSetImportJobOutput{
		Id:              j.ID,
		SequenceStoreId: j.StoreID,
		RoleArn:         j.RoleArn,
		Status:          omicsapi.ReadSetImportJobStatus(j.Status),
		StatusMessage:   j.StatusMessage,
		CreationTime:    omicsapi.NewTime(j.CreatedAt),
		CompletionTime:  completionTime(j.Job),
		Sources:         make([]omicsapi.ImportReadSetSourceItem, 0, len(j.Sources)),
	}
	for _, src := range j.Sources {
		out.Sources = append(out.Sources, omicsapi.ImportReadSetSourceItem{
			SourceFiles:    &omicsapi.SourceFiles{Source1: src.Source1, Source2: src.Source2},
			SourceFileType: omicsapi.FileType(src.FileType),
			Status:         omicsapi.ReadSetImportJobItemStatus(src.Status),
			StatusMessage:  src.StatusMessage,
			SubjectId:      src.SubjectID,
			SampleId:       src.SampleID,
			GeneratedFrom:  src.GeneratedFrom,
			ReferenceArn:   src.ReferenceArn,
			Name:           src.Name,
			Description:    src.Description,
			Tags:           src.Tags,
			ReadSetId:      src.ReadSetID,
		})
	}
	return out, nil
}

// ListReadSetImportJobs implements POST /sequencestore/{sequenceStoreId}/importjobs.
func (s *Server) ListReadSetImportJobs(ctx context.Context, in *omicsapi.ListReadSetImportJobsInput) (*omicsapi.ListReadSetImportJobsOutput, error) {
	var f meta.JobFilter
	if in.Filter != nil {
		f = meta.JobFilter{Status: string(in.Filter.Status), Created: timeRange(in.Filter.CreatedAfter, in.Filter.CreatedBefore)}
	}
	jobs, next, err := s.listJobs(ctx, "ListReadSetImportJobs", in.SequenceStoreId, f, in.NextToken, in.MaxResults, s.rs.ListImports)
	if err != nil {
		return nil, err
	}
	out := &omicsapi.ListReadSetImportJobsOutput{NextToken: next, ImportJobs: make([]omicsapi.ImportReadSetJobItem, 0, len(jobs))}
	for _, j := range jobs {
		out.ImportJobs = append(out.ImportJobs, omicsapi.ImportReadSetJobItem{
			Id:              j.ID,
			SequenceStoreId: j.StoreID,
			RoleArn:         j.RoleArn,
			Status:          omicsapi.ReadSetImportJobStatus(j.Status),
			CreationTime:    omicsapi.NewTime(j.CreatedAt),
			CompletionTime:  completionTime(j),
		})
	}
	return out, nil
}

// listJobs runs one page of a job list under the list's page tokens.
func (s *Server) listJobs(ctx context.Context, op, storeID string, f meta.JobFilter, token string, max *int32,
	list func(context.Context, string, string, meta.JobFilter, meta.Page) ([]*seqstore.Job, string, error)) ([]*seqstore.Job, string, error) {
	acct := account(ctx)
	scope := scopeOf(storeID, f)
	after, err := s.tokens.open(op, acct, scope, token)
	if err != nil {
		return nil, "", err
	}
	jobs, next, err := list(ctx, acct, storeID, f, meta.Page{After: after, Limit: pageSize(max)})
	if err != nil {
		return nil, "", err
	}
	return jobs, s.tokens.seal(op, acct, scope, next), nil
}

// StartReadSetExportJob implements POST /sequencestore/{sequenceStoreId}/exportjob.
func (s *Server) StartReadSetExportJob(ctx context.Context, in *omicsapi.StartReadSetExportJobInput) (*omicsapi.StartReadSetExportJobOutput, error) {
	req := *in
	req.ClientToken = ""
	return idempotent(ctx, s, "StartReadSetExportJob", in.ClientToken, req, func() (*omicsapi.StartReadSetExportJobOutput, error) {
		ids := make([]string, len(in.Sources))
		for i, src := range in.Sources {
			ids[i] = src.ReadSetId
		}
		j, err := s.rs.StartExport(ctx, account(ctx), in.SequenceStoreId, in.RoleArn, in.Destination, ids)
		if err != nil {
			return nil, err
		}
		return &omicsapi.StartReadSetExportJobOutput{
			Id:              j.ID,
			SequenceStoreId: j.StoreID,
			Destination:     j.Destination,
			Status:          omicsapi.ReadSetExportJobStatus(j.Status),
			CreationTime:    omicsapi.NewTime(j.CreatedAt),
		}, nil
	})
}

// GetReadSetExportJob implements GET /sequencestore/{sequenceStoreId}/exportjob/{id}.
func (s *Server) GetReadSetExportJob(ctx context.Context, in *omicsapi.GetReadSetExportJobInput) (*omicsapi.GetReadSetExportJobOutput, error) {
	j, err := s.rs.GetExport(ctx, account(ctx), in.SequenceStoreId, in.Id)
	if err != nil {
		return nil, err
	}
	out := &omicsapi.GetReadSetExportJobOutput{
		Id:              j.ID,
		SequenceStoreId: j.StoreID,
		Destination:     j.Destination,
		Status:          omicsapi.ReadSetExportJobStatus(j.Status),
		StatusMessage:   j.StatusMessage,
		CreationTime:    omicsapi.NewTime(j.CreatedAt),
		CompletionTime:  completionTime(j),
		ReadSets:        make([]omicsapi.ExportReadSetDetail, 0, len(j.Items)),
	}
	for _, it := range j.Items {
		out.ReadSets = append(out.ReadSets, omicsapi.ExportReadSetDetail{
			Id:            it.ReadSetID,
			Status:        omicsapi.ReadSetExportJobItemStatus(it.Status),
			StatusMessage: it.StatusMessage,
		})
	}
	return out, nil
}

// ListReadSetExportJobs implements POST /sequencestore/{sequenceStoreId}/exportjobs.
func (s *Server) ListReadSetExportJobs(ctx context.Context, in *omicsapi.ListReadSetExportJobsInput) (*omicsapi.ListReadSetExportJobsOutput, error) {
	var f meta.JobFilter
	if in.Filter != nil {
		f = meta.JobFilter{Status: string(in.Filter.Status), Created: timeRange(in.Filter.CreatedAfter, in.Filter.CreatedBefore)}
	}
	jobs, next, err := s.listJobs(ctx, "ListReadSetExportJobs", in.SequenceStoreId, f, in.NextToken, in.MaxResults, s.rs.ListExports)
	if err != nil {
		return nil, err
	}
	out := &omicsapi.ListReadSetExportJobsOutput{NextToken: next, ExportJobs: make([]omicsapi.ExportReadSetJobDetail, 0, len(jobs))}
	for _, j := range jobs {
		out.ExportJobs = append(out.ExportJobs, omicsapi.ExportReadSetJobDetail{
			Id:              j.ID,
			SequenceStoreId: j.StoreID,
			Destination:     j.Destination,
			Status:          omicsapi.ReadSetExportJobStatus(j.Status),
			CreationTime:    omicsapi.NewTime(j.CreatedAt),
			CompletionTime:  completionTime(j),
		})
	}
	return out, nil
}

// StartReadSetActivationJob implements POST /sequencestore/{sequenceStoreId}/activationjob.
func (s *Server) StartReadSetActivationJob(ctx context.Context, in *omicsapi.StartReadSetActivationJobInput) (*omicsapi.StartReadSetActivationJobOutput, error) {
	req := *in
	req.ClientToken = ""
	return idempotent(ctx, s, "StartReadSetActivationJob", in.ClientToken, req, func() (*omicsapi.StartReadSetActivationJobOutput, error) {
		ids := make([]string, len(in.Sources))
		for i, src := range in.Sources {
			ids[i] = src.ReadSetId
		}
		j, err := s.rs.StartActivation(ctx, account(ctx), in.SequenceStoreId, ids)
		if err != nil {
			return nil, err
		}
		return &omicsapi.StartReadSetActivationJobOutput{
			Id:              j.ID,
			SequenceStoreId: j.StoreID,
			Status:          omicsapi.ReadSetActivationJobStatus(j.Status),
			CreationTime:    omicsapi.NewTime(j.CreatedAt),
		}, nil
	})
}

// GetReadSetActivationJob implements GET /sequencestore/{sequenceStoreId}/activationjob/{id}.
func (s *Server) GetReadSetActivationJob(ctx context.Context, in *omicsapi.GetReadSetActivationJobInput) (*omicsapi.GetReadSetActivationJobOutput, error) {
	j, err := s.rs.GetActivation(ctx, account(ctx), in.SequenceStoreId, in.Id)
	if err != nil {
		return nil, err
	}
	out := &omicsapi.GetReadSetActivationJobOutput{
		Id:              j.ID,
		SequenceStoreId: j.StoreID,
		Status:          omicsapi.ReadSetActivationJobStatus(j.Status),
		StatusMessage:   j.StatusMessage,
		CreationTime:    omicsapi.NewTime(j.CreatedAt),
		CompletionTime:  completionTime(j),
		Sources:         make([]omicsapi.ActivateReadSetSourceItem, 0, len(j.Items)),
	}
	for _, it := range j.Items {
		out.Sources = append(out.Sources, omicsapi.ActivateReadSetSourceItem{
			ReadSetId:     it.ReadSetID,
			Status:        omicsapi.ReadSetActivationJobItemStatus(it.Status),
			StatusMessage: it.StatusMessage,
		})
	}
	return out, nil
}

// ListReadSetActivationJobs implements POST /sequencestore/{sequenceStoreId}/activationjobs.
func (s *Server) ListReadSetActivationJobs(ctx context.Context, in *omicsapi.ListReadSetActivationJobsInput) (*omicsapi.ListReadSetActivationJobsOutput, error) {
	var f meta.JobFilter
	if in.Filter != nil {
		f = meta.JobFilter{Status: string(in.Filter.Status), Created: timeRange(in.Filter.CreatedAfter, in.Filter.CreatedBefore)}
	}
	jobs, next, err := s.listJobs(ctx, "ListReadSetActivationJobs", in.SequenceStoreId, f, in.NextToken, in.MaxResults, s.rs.ListActivations)
	if err != nil {
		return nil, err
	}
	out := &omicsapi.ListReadSetActivationJobsOutput{NextToken: next, ActivationJobs: make([]omicsapi.ActivateReadSetJobItem, 0, len(jobs))}
	for _, j := range jobs {
		out.ActivationJobs = append(out.ActivationJobs, omicsapi.ActivateReadSetJobItem{
			Id:              j.ID,
			SequenceStoreId: j.StoreID,
			Status:          omicsapi.ReadSetActivationJobStatus(j.Status),
			CreationTime:    omicsapi.NewTime(j.CreatedAt),
			CompletionTime:  completionTime(j),
		})
	}
	return out, nil
}
