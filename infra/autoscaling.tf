# Per pipeline: a launch template and a spot-only Auto Scaling group costagent-<id>. costagent changes
# desired capacity and the instance mix at run time, so Terraform ignores both after creation.

resource "aws_launch_template" "worker" {
  for_each = var.pipelines

  name_prefix   = "${local.group_prefix}${each.key}-"
  description   = "costagent worker for pipeline ${each.key}."
  image_id      = each.value.image_id != null ? each.value.image_id : var.worker_image_id
  instance_type = each.value.default_instance_type

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
  }

  dynamic "tag_specifications" {
    for_each = ["instance", "volume"]
    content {
      resource_type = tag_specifications.value
      tags          = merge(local.tags, { "costagent:pipeline" = each.key })
    }
  }

  tags = merge(local.tags, { "costagent:pipeline" = each.key })

  lifecycle {
    precondition {
      condition     = each.value.image_id != null || var.worker_image_id != null
      error_message = "Set the pipeline's image_id or var.worker_image_id."
    }
  }
}

resource "aws_autoscaling_group" "pipeline" {
  for_each = var.pipelines

  name                 = "${local.group_prefix}${each.key}"
  min_size             = each.value.min_instances
  max_size             = each.value.max_instances # hard ceiling; costagent never scales past it
  desired_capacity     = coalesce(each.value.target_instances, each.value.min_instances)
  vpc_zone_identifier  = each.value.subnet_ids
  termination_policies = ["OldestInstance"]

  mixed_instances_policy {
    instances_distribution {
      on_demand_base_capacity                  = 0
      on_demand_percentage_above_base_capacity = 0
      spot_allocation_strategy                 = "price-capacity-optimized"
      spot_max_price                           = each.value.spot_max_price
    }

    launch_template {
      launch_template_specification {
        launch_template_id = aws_launch_template.worker[each.key].id
        version            = "$Latest"
      }

      dynamic "override" {
        for_each = each.value.allowed_instance_types
        content {
          instance_type = override.value
        }
      }
    }
  }

  dynamic "tag" {
    for_each = merge(local.tags, { "costagent:pipeline" = each.key })
    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }

  lifecycle {
    ignore_changes = [desired_capacity, mixed_instances_policy]
  }
}
