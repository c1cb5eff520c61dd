"""What the compiler hands the deployers: the deployment plan, the trigger rules, the code assets."""
