"""The weekly digest: each organization's report, written from the published snapshot."""
