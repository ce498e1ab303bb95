module github.com/paddock-f1/paddock/services/extract-weather

go 1.26.8
