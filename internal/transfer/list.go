package transfer

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"
)

// Stores lists the sequence stores the filter lets through (nil for all).
func (c *Client) Stores(ctx context.Context, filter *types.SequenceStoreFilter) ([]types.SequenceStoreDetail, error) {
	var all []types.SequenceStoreDetail
	pages := omics.NewListSequenceStoresPaginator(c.API, &omics.ListSequenceStoresInput{Filter: filter})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing sequence stores: %w", err)
		}
		all = append(all, page.SequenceStores...)
	}
	return all, nil
}

// ReadSets lists a store's read sets that the filter lets through (nil for
// all).
func (c *Client) ReadSets(ctx context.Context, storeID string, filter *types.ReadSetFilter) ([]types.ReadSetListItem, error) {
	var all []types.ReadSetListItem
	pages := omics.NewListReadSetsPaginator(c.API, &omics.ListReadSetsInput{SequenceStoreId: aws.String(storeID), Filter: filter})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the read sets of store %s: %w", storeID, err)
		}
		all = append(all, page.ReadSets...)
	}
	return all, nil
}

// deleteBatch is the most read sets one BatchDeleteReadSet takes.
const deleteBatch = 100

// DeleteFailure is a read set that could not be deleted, and why.
type DeleteFailure struct {
	ID      string `json:"id"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Delete deletes read sets, in batches the API accepts, and returns those
// it refused to delete.
func (c *Client) Delete(ctx context.Context, storeID string, ids []string) ([]DeleteFailure, error) {
	var failed []DeleteFailure
	for len(ids) > 0 {
		batch := ids[:min(deleteBatch, len(ids))]
		ids = ids[len(batch):]
		out, err := c.API.BatchDeleteReadSet(ctx, &omics.BatchDeleteReadSetInput{SequenceStoreId: aws.String(storeID), Ids: batch})
		if err != nil {
			return failed, fmt.Errorf("deleting read sets of store %s: %w", storeID, err)
		}
		for _, e := range out.Errors {
			failed = append(failed, DeleteFailure{ID: aws.ToString(e.Id), Code: aws.ToString(e.Code), Message: aws.ToString(e.Message)})
		}
		for _, id := range batch {
			if !hasFailure(failed, id) {
				c.step("deleted read set %s", id)
			}
		}
	}
	return failed, nil
}

func hasFailure(failed []DeleteFailure, id string) bool {
	for _, f := range failed {
		if f.ID == id {
			return true
		}
	}
	return false
}
