-- A reference keeps the sequences its import found: name, length and SAM M5
-- digest of each, as a JSON list, so that aligned read sets can be checked
-- against it without reading its FASTA. References made before this version
-- were never imported (no version imported them), so an empty list is true.
ALTER TABLE genome_references ADD COLUMN sequences TEXT NOT NULL DEFAULT '[]';
