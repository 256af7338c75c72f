"""Batch fusion that scales out: pairs from a folder or an S3 prefix, cut into shards that workers fuse in parallel.

`plan` lists and shards the pairs, `storage` reads and writes local folders or ``s3://bucket/prefix``,
`model` pins the model version once per run and loads it once per worker process, `shard` fuses one shard
with the one inference path (`tsjnet.registry.fuse.fuse_pair`), and `manifest` records what each shard did,
which is also how a re-run knows which shards are finished. The Prefect flow is flows/batch_fuse.py.
"""
