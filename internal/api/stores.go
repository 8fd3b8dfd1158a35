package api

import (
	"context"
	"fmt"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/api/omicsapi"
	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/service"
)

// defaultPageSize is how many items a list returns without maxResults.
const defaultPageSize = 100

func pageSize(max *int32) int {
	if max == nil {
		return defaultPageSize
	}
	return int(*max)
}

func sseConfig(typ, key string) *omicsapi.SseConfig {
	if typ == "" {
		return nil
	}
	return &omicsapi.SseConfig{Type: omicsapi.EncryptionType(typ), KeyArn: key}
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func timePtr(t time.Time) *omicsapi.Time {
	if t.IsZero() {
		return nil
	}
	return omicsapi.TimePtr(t)
}

func timeRange(after, before *omicsapi.Time) meta.TimeRange {
	var r meta.TimeRange
	if after != nil {
		r.After = after.Time
	}
	if before != nil {
		r.Before = before.Time
	}
	return r
}

// scopeOf describes a list request for binding its page tokens.
func scopeOf(parts ...any) string { return fmt.Sprintf("%q", parts) }

func (s *Server) s3Access(st *seqstore.SequenceStore) *omicsapi.SequenceStoreS3Access {
	a := s.svc.SequenceStoreS3Access(st)
	return &omicsapi.SequenceStoreS3Access{S3Uri: a.S3URI, S3AccessPointArn: a.AccessPointArn, AccessLogLocation: optString(a.AccessLogLocation)}
}

func (s *Server) sequenceStoreOutput(st *seqstore.SequenceStore) *omicsapi.GetSequenceStoreOutput {
	return &omicsapi.GetSequenceStoreOutput{
		Id:                     st.ID,
		Arn:                    s.svc.ARN.SequenceStore(st.AccountID, st.ID),
		Name:                   st.Name,
		Description:            st.Description,
		SseConfig:              sseConfig(st.SSEType, st.SSEKeyArn),
		CreationTime:           omicsapi.NewTime(st.CreatedAt),
		FallbackLocation:       optString(st.FallbackLocation),
		S3Access:               s.s3Access(st),
		ETagAlgorithmFamily:    omicsapi.ETagAlgorithmFamily(st.ETagAlgorithmFamily),
		Status:                 omicsapi.SequenceStoreStatus(st.Status),
		StatusMessage:          st.StatusMessage,
		PropagatedSetLevelTags: st.PropagatedSetLevelTags,
		UpdateTime:             timePtr(st.UpdatedAt),
	}
}

// CreateSequenceStore implements POST /sequencestore.
func (s *Server) CreateSequenceStore(ctx context.Context, in *omicsapi.CreateSequenceStoreInput) (*omicsapi.CreateSequenceStoreOutput, error) {
	req := *in
	req.ClientToken = ""
	return idempotent(ctx, s, "CreateSequenceStore", in.ClientToken, req, func() (*omicsapi.CreateSequenceStoreOutput, error) {
		p := service.CreateSequenceStoreParams{
			Name:                   in.Name,
			Description:            in.Description,
			ETagAlgorithmFamily:    string(in.ETagAlgorithmFamily),
			PropagatedSetLevelTags: in.PropagatedSetLevelTags,
			Tags:                   in.Tags,
		}
		if in.SseConfig != nil {
			p.SSEType, p.SSEKeyArn = string(in.SseConfig.Type), in.SseConfig.KeyArn
		}
		if in.FallbackLocation != nil {
			p.FallbackLocation = *in.FallbackLocation
		}
		if in.S3AccessConfig != nil && in.S3AccessConfig.AccessLogLocation != nil {
			p.AccessLogLocation = *in.S3AccessConfig.AccessLogLocation
		}
		st, err := s.svc.CreateSequenceStore(ctx, account(ctx), p)
		if err != nil {
			return nil, err
		}
		o := s.sequenceStoreOutput(st)
		return &omicsapi.CreateSequenceStoreOutput{
			Id: o.Id, Arn: o.Arn, Name: o.Name, Description: o.Description, SseConfig: o.SseConfig,
			CreationTime: o.CreationTime, FallbackLocation: o.FallbackLocation, ETagAlgorithmFamily: o.ETagAlgorithmFamily,
			Status: o.Status, StatusMessage: o.StatusMessage, PropagatedSetLevelTags: o.PropagatedSetLevelTags, S3Access: o.S3Access,
		}, nil
	})
}

// GetSequenceStore implements GET /sequencestore/{id}.
func (s *Server) GetSequenceStore(ctx context.Context, in *omicsapi.GetSequenceStoreInput) (*omicsapi.GetSequenceStoreOutput, error) {
	st, err := s.svc.GetSequenceStore(ctx, account(ctx), in.Id)
	if err != nil {
		return nil, err
	}
	return s.sequenceStoreOutput(st), nil
}

// UpdateSequenceStore implements PATCH /sequencestore/{id}.
func (s *Server) UpdateSequenceStore(ctx context.Context, in *omicsapi.UpdateSequenceStoreInput) (*omicsapi.UpdateSequenceStoreOutput, error) {
	req := *in
	req.ClientToken = ""
	return idempotent(ctx, s, "UpdateSequenceStore", in.ClientToken, req, func() (*omicsapi.UpdateSequenceStoreOutput, error) {
		p := service.UpdateSequenceStoreParams{
			FallbackLocation:       in.FallbackLocation,
			PropagatedSetLevelTags: in.PropagatedSetLevelTags,
		}
		if in.Name != "" {
			p.Name = &in.Name
		}
		if in.Description != "" {
			p.Description = &in.Description
		}
		if in.S3AccessConfig != nil {
			p.AccessLogLocation = in.S3AccessConfig.AccessLogLocation
		}
		st, err := s.svc.UpdateSequenceStore(ctx, account(ctx), in.Id, p)
		if err != nil {
			return nil, err
		}
		o := s.sequenceStoreOutput(st)
		return &omicsapi.UpdateSequenceStoreOutput{
			Id: o.Id, Arn: o.Arn, Name: o.Name, Description: o.Description, SseConfig: o.SseConfig,
			CreationTime: o.CreationTime, UpdateTime: o.UpdateTime, PropagatedSetLevelTags: o.PropagatedSetLevelTags,
			Status: o.Status, StatusMessage: o.StatusMessage, FallbackLocation: o.FallbackLocation, S3Access: o.S3Access,
			ETagAlgorithmFamily: o.ETagAlgorithmFamily,
		}, nil
	})
}

// ListSequenceStores implements POST /sequencestores.
func (s *Server) ListSequenceStores(ctx context.Context, in *omicsapi.ListSequenceStoresInput) (*omicsapi.ListSequenceStoresOutput, error) {
	var f meta.SequenceStoreFilter
	if in.Filter != nil {
		f = meta.SequenceStoreFilter{
			Name:    in.Filter.Name,
			Status:  string(in.Filter.Status),
			Created: timeRange(in.Filter.CreatedAfter, in.Filter.CreatedBefore),
			Updated: timeRange(in.Filter.UpdatedAfter, in.Filter.UpdatedBefore),
		}
	}
	acct := account(ctx)
	scope := scopeOf(f)
	after, err := s.tokens.open("ListSequenceStores", acct, scope, in.NextToken)
	if err != nil {
		return nil, err
	}
	items, next, err := s.svc.ListSequenceStores(ctx, acct, f, meta.Page{After: after, Limit: pageSize(in.MaxResults)})
	if err != nil {
		return nil, err
	}
	out := &omicsapi.ListSequenceStoresOutput{
		NextToken:      s.tokens.seal("ListSequenceStores", acct, scope, next),
		SequenceStores: make([]omicsapi.SequenceStoreDetail, 0, len(items)),
	}
	for _, st := range items {
		o := s.sequenceStoreOutput(st)
		out.SequenceStores = append(out.SequenceStores, omicsapi.SequenceStoreDetail{
			Arn: o.Arn, Id: o.Id, Name: o.Name, Description: o.Description, SseConfig: o.SseConfig,
			CreationTime: o.CreationTime, FallbackLocation: o.FallbackLocation, ETagAlgorithmFamily: o.ETagAlgorithmFamily,
			Status: o.Status, StatusMessage: o.StatusMessage, UpdateTime: o.UpdateTime,
		})
	}
	return out, nil
}

// DeleteSequenceStore implements DELETE /sequencestore/{id}.
func (s *Server) DeleteSequenceStore(ctx context.Context, in *omicsapi.DeleteSequenceStoreInput) (*omicsapi.DeleteSequenceStoreOutput, error) {
	if err := s.svc.DeleteSequenceStore(ctx, account(ctx), in.Id); err != nil {
		return nil, err
	}
	return &omicsapi.DeleteSequenceStoreOutput{}, nil
}

func (s *Server) referenceStoreOutput(st *seqstore.ReferenceStore) *omicsapi.GetReferenceStoreOutput {
	return &omicsapi.GetReferenceStoreOutput{
		Id:           st.ID,
		Arn:          s.svc.ARN.ReferenceStore(st.AccountID, st.ID),
		Name:         st.Name,
		Description:  st.Description,
		SseConfig:    sseConfig(st.SSEType, st.SSEKeyArn),
		CreationTime: omicsapi.NewTime(st.CreatedAt),
	}
}

// CreateReferenceStore implements POST /referencestore.
func (s *Server) CreateReferenceStore(ctx context.Context, in *omicsapi.CreateReferenceStoreInput) (*omicsapi.CreateReferenceStoreOutput, error) {
	req := *in
	req.ClientToken = ""
	return idempotent(ctx, s, "CreateReferenceStore", in.ClientToken, req, func() (*omicsapi.CreateReferenceStoreOutput, error) {
		p := service.CreateReferenceStoreParams{Name: in.Name, Description: in.Description, Tags: in.Tags}
		if in.SseConfig != nil {
			p.SSEType, p.SSEKeyArn = string(in.SseConfig.Type), in.SseConfig.KeyArn
		}
		st, err := s.svc.CreateReferenceStore(ctx, account(ctx), p)
		if err != nil {
			return nil, err
		}
		o := s.referenceStoreOutput(st)
		return &omicsapi.CreateReferenceStoreOutput{Id: o.Id, Arn: o.Arn, Name: o.Name, Description: o.Description, SseConfig: o.SseConfig, CreationTime: o.CreationTime}, nil
	})
}

// GetReferenceStore implements GET /referencestore/{id}.
func (s *Server) GetReferenceStore(ctx context.Context, in *omicsapi.GetReferenceStoreInput) (*omicsapi.GetReferenceStoreOutput, error) {
	st, err := s.svc.GetReferenceStore(ctx, account(ctx), in.Id)
	if err != nil {
		return nil, err
	}
	return s.referenceStoreOutput(st), nil
}

// ListReferenceStores implements POST /referencestores.
func (s *Server) ListReferenceStores(ctx context.Context, in *omicsapi.ListReferenceStoresInput) (*omicsapi.ListReferenceStoresOutput, error) {
	var name string
	var created meta.TimeRange
	if in.Filter != nil {
		name = in.Filter.Name
		created = timeRange(in.Filter.CreatedAfter, in.Filter.CreatedBefore)
	}
	acct := account(ctx)
	scope := scopeOf(name, created)
	after, err := s.tokens.open("ListReferenceStores", acct, scope, in.NextToken)
	if err != nil {
		return nil, err
	}
	items, next, err := s.svc.ListReferenceStores(ctx, acct, name, created, meta.Page{After: after, Limit: pageSize(in.MaxResults)})
	if err != nil {
		return nil, err
	}
	out := &omicsapi.ListReferenceStoresOutput{
		NextToken:       s.tokens.seal("ListReferenceStores", acct, scope, next),
		ReferenceStores: make([]omicsapi.ReferenceStoreDetail, 0, len(items)),
	}
	for _, st := range items {
		o := s.referenceStoreOutput(st)
		out.ReferenceStores = append(out.ReferenceStores, omicsapi.ReferenceStoreDetail{Arn: o.Arn, Id: o.Id, Name: o.Name, Description: o.Description, SseConfig: o.SseConfig, CreationTime: o.CreationTime})
	}
	return out, nil
}

// DeleteReferenceStore implements DELETE /referencestore/{id}.
func (s *Server) DeleteReferenceStore(ctx context.Context, in *omicsapi.DeleteReferenceStoreInput) (*omicsapi.DeleteReferenceStoreOutput, error) {
	if err := s.svc.DeleteReferenceStore(ctx, account(ctx), in.Id); err != nil {
		return nil, err
	}
	return &omicsapi.DeleteReferenceStoreOutput{}, nil
}

// PutS3AccessPolicy implements PUT /s3accesspolicy/{s3AccessPointArn}.
func (s *Server) PutS3AccessPolicy(ctx context.Context, in *omicsapi.PutS3AccessPolicyInput) (*omicsapi.PutS3AccessPolicyOutput, error) {
	p, err := s.svc.PutS3AccessPolicy(ctx, account(ctx), in.S3AccessPointArn, in.S3AccessPolicy)
	if err != nil {
		return nil, err
	}
	return &omicsapi.PutS3AccessPolicyOutput{S3AccessPointArn: p.AccessPointArn, StoreId: p.StoreID, StoreType: omicsapi.StoreType(p.StoreType)}, nil
}

// GetS3AccessPolicy implements GET /s3accesspolicy/{s3AccessPointArn}.
func (s *Server) GetS3AccessPolicy(ctx context.Context, in *omicsapi.GetS3AccessPolicyInput) (*omicsapi.GetS3AccessPolicyOutput, error) {
	p, err := s.svc.GetS3AccessPolicy(ctx, account(ctx), in.S3AccessPointArn)
	if err != nil {
		return nil, err
	}
	return &omicsapi.GetS3AccessPolicyOutput{
		S3AccessPointArn: p.AccessPointArn, StoreId: p.StoreID, StoreType: omicsapi.StoreType(p.StoreType),
		UpdateTime: timePtr(p.UpdatedAt), S3AccessPolicy: p.Policy,
	}, nil
}

// DeleteS3AccessPolicy implements DELETE /s3accesspolicy/{s3AccessPointArn}.
func (s *Server) DeleteS3AccessPolicy(ctx context.Context, in *omicsapi.DeleteS3AccessPolicyInput) (*omicsapi.DeleteS3AccessPolicyOutput, error) {
	if err := s.svc.DeleteS3AccessPolicy(ctx, account(ctx), in.S3AccessPointArn); err != nil {
		return nil, err
	}
	return &omicsapi.DeleteS3AccessPolicyOutput{}, nil
}

// TagResource implements POST /tags/{resourceArn}.
func (s *Server) TagResource(ctx context.Context, in *omicsapi.TagResourceInput) (*omicsapi.TagResourceOutput, error) {
	if err := s.svc.TagResource(ctx, account(ctx), in.ResourceArn, in.Tags); err != nil {
		return nil, err
	}
	return &omicsapi.TagResourceOutput{}, nil
}

// UntagResource implements DELETE /tags/{resourceArn}.
func (s *Server) UntagResource(ctx context.Context, in *omicsapi.UntagResourceInput) (*omicsapi.UntagResourceOutput, error) {
	if err := s.svc.UntagResource(ctx, account(ctx), in.ResourceArn, in.TagKeys); err != nil {
		return nil, err
	}
	return &omicsapi.UntagResourceOutput{}, nil
}

// ListTagsForResource implements GET /tags/{resourceArn}.
func (s *Server) ListTagsForResource(ctx context.Context, in *omicsapi.ListTagsForResourceInput) (*omicsapi.ListTagsForResourceOutput, error) {
	tags, err := s.svc.ListTagsForResource(ctx, account(ctx), in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if tags == nil {
		tags = map[string]string{}
	}
	return &omicsapi.ListTagsForResourceOutput{Tags: tags}, nil
}
