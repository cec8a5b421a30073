-- The access record's GIN indexes take each new entry into the index at once (fastupdate off),
-- instead of into a pending list that the insert which finds it past gin_pending_list_limit (4 MB)
-- merges into the index, in that insert's own transaction. Every request waits for its access
-- record, so that merge stalled all of them: under Q1 load one record batch took ~500 ms about
-- every 15 s (the subject-hash index's pending list filled that fast), and Q1's p99 was 230-480 ms
-- in half the 8 s runs against ~30 ms in the others; with fastupdate off, 27-40 ms in every run, at
-- the same req/s (bench/README.md). A search no longer scans an unsorted pending list either.
ALTER INDEX "access_record_subject_hashes_idx" SET (fastupdate = off);
ALTER INDEX "access_record_datasets_idx" SET (fastupdate = off);
ALTER INDEX "access_row_set_subject_hashes_idx" SET (fastupdate = off);
-- What is pending now goes into the indexes here, once.
SELECT gin_clean_pending_list('"access_record_subject_hashes_idx"'::regclass);
SELECT gin_clean_pending_list('"access_record_datasets_idx"'::regclass);
SELECT gin_clean_pending_list('"access_row_set_subject_hashes_idx"'::regclass);
