module github.com/paddock-f1/paddock/services/planner

go 1.26.8
