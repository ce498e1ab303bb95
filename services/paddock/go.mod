module github.com/paddock-f1/paddock/services/paddock

go 1.26.8
