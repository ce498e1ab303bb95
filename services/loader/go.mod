module github.com/paddock-f1/paddock/services/loader

go 1.26.8
