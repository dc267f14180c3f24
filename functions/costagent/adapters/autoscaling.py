"""EC2 Auto Scaling: the pipeline's group, and the capacity changes the executor makes."""

from __future__ import annotations

from typing import Any

from costagent.adapters.aws import LazyClient, aws_call
from costagent.models import GroupCapacity


class AutoScalingAdapter(LazyClient):
    service = "autoscaling"

    def describe_group(self, group_name: str) -> dict[str, Any] | None:
        with aws_call("autoscaling:DescribeAutoScalingGroups"):
            groups = self.client.describe_auto_scaling_groups(AutoScalingGroupNames=[group_name])
        found = groups.get("AutoScalingGroups", [])
        return found[0] if found else None

    def group(self, group_name: str) -> GroupCapacity | None:
        raw = self.describe_group(group_name)
        if raw is None:
            return None
        policy = raw.get("MixedInstancesPolicy") or {}
        overrides = policy.get("LaunchTemplate", {}).get("Overrides", [])
        distribution = policy.get("InstancesDistribution", {})
        return GroupCapacity(
            group_name=group_name,
            desired_capacity=raw["DesiredCapacity"],
            min_size=raw["MinSize"],
            max_size=raw["MaxSize"],
            instance_type=overrides[0]["InstanceType"] if overrides else None,
            on_demand_base_capacity=int(distribution.get("OnDemandBaseCapacity", 0)),
        )

    def set_desired_capacity(self, group_name: str, desired: int) -> None:
        with aws_call("autoscaling:SetDesiredCapacity"):
            self.client.set_desired_capacity(
                AutoScalingGroupName=group_name, DesiredCapacity=desired, HonorCooldown=False
            )

    def terminate_instance(self, instance_id: str, *, decrement: bool) -> None:
        with aws_call("autoscaling:TerminateInstanceInAutoScalingGroup"):
            self.client.terminate_instance_in_auto_scaling_group(
                InstanceId=instance_id, ShouldDecrementDesiredCapacity=decrement
            )

    def suspend_launches(self, group_name: str) -> None:
        """Stop the group from launching anything, replacements included; running instances keep running."""
        with aws_call("autoscaling:SuspendProcesses"):
            self.client.suspend_processes(AutoScalingGroupName=group_name, ScalingProcesses=["Launch"])

    def set_launch_preference(self, group_name: str, instance_type: str, on_demand_base: int) -> None:
        """Put `instance_type` first among the group's overrides and set the on-demand base capacity.

        With the group's prioritized order, new instances launch as that type; the base capacity decides
        how many of them are on-demand (all of them for an on-demand migration, none for spot)."""
        raw = self.describe_group(group_name)
        if raw is None or not raw.get("MixedInstancesPolicy"):
            raise ValueError(f"group {group_name} has no mixed instances policy to update")
        policy = raw["MixedInstancesPolicy"]
        overrides = policy["LaunchTemplate"].get("Overrides", [])
        ordered = sorted(overrides, key=lambda o: o.get("InstanceType") != instance_type)
        if not any(o.get("InstanceType") == instance_type for o in ordered):
            ordered.insert(0, {"InstanceType": instance_type})
        described = policy["LaunchTemplate"]["LaunchTemplateSpecification"]
        # DescribeAutoScalingGroups returns both id and name; UpdateAutoScalingGroup accepts only one.
        specification = {"Version": described.get("Version", "$Latest")}
        if described.get("LaunchTemplateId"):
            specification["LaunchTemplateId"] = described["LaunchTemplateId"]
        else:
            specification["LaunchTemplateName"] = described["LaunchTemplateName"]
        distribution = dict(policy.get("InstancesDistribution", {}))
        distribution["OnDemandBaseCapacity"] = on_demand_base
        distribution["OnDemandPercentageAboveBaseCapacity"] = 0
        with aws_call("autoscaling:UpdateAutoScalingGroup"):
            self.client.update_auto_scaling_group(
                AutoScalingGroupName=group_name,
                MixedInstancesPolicy={
                    "LaunchTemplate": {
                        "LaunchTemplateSpecification": specification,
                        "Overrides": ordered,
                    },
                    "InstancesDistribution": distribution,
                },
            )
