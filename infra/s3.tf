# Checkpoint bucket: pipeline progress, checkpoint markers and drill scratch (COSTAGENT_CHECKPOINT_BUCKET).

resource "aws_s3_bucket" "checkpoints" {
  #checkov:skip=CKV_AWS_18:Access logs would need a second bucket; this one is private, TLS-only and used only by the stack's roles and the workers. Turn on CloudTrail S3 data events if an access trail is required.
  #checkov:skip=CKV_AWS_144:Checkpoints serve pipelines running in this region and versioning keeps overwritten ones; a replica in another region would double storage for data no other region reads.
  #checkov:skip=CKV_AWS_145:SSE-S3 (AES256) encrypts every object; a customer managed key would have to be granted to every worker's instance role outside this stack, and the AWS managed aws/s3 key adds KMS request cost without adding access control.
  #checkov:skip=CKV2_AWS_62:Nothing consumes object events: costagent reads progress and checkpoints when a cycle runs.
  bucket = local.checkpoint_bucket
  tags   = local.tags
}

resource "aws_s3_bucket_versioning" "checkpoints" {
  bucket = aws_s3_bucket.checkpoints.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "checkpoints" {
  bucket = aws_s3_bucket.checkpoints.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "checkpoints" {
  bucket = aws_s3_bucket.checkpoints.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

data "aws_iam_policy_document" "checkpoints_bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.checkpoints.arn,
      "${aws_s3_bucket.checkpoints.arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "checkpoints" {
  bucket = aws_s3_bucket.checkpoints.id
  policy = data.aws_iam_policy_document.checkpoints_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.checkpoints]
}

resource "aws_s3_bucket_lifecycle_configuration" "checkpoints" {
  bucket = aws_s3_bucket.checkpoints.id

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.checkpoint_noncurrent_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  # Drill scratch is per pipeline (pipelines/<id>/drills/scratch/); S3 prefixes take no wildcard.
  dynamic "rule" {
    for_each = var.pipelines
    content {
      id     = "expire-drill-scratch-${rule.key}"
      status = "Enabled"

      filter {
        prefix = "pipelines/${rule.key}/drills/scratch/"
      }

      expiration {
        days = 1
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.checkpoints]
}
