using System.ComponentModel.DataAnnotations;

namespace Cimef.Site.Tests.Storage;

/// <summary>Storage:Reports is validated at start, with French messages naming the missing keys.</summary>
public class ReportStorageOptionsTests
{
    private static List<string> Errors(ReportStorageOptions reports) =>
        new StorageOptions { Reports = reports }.Validate(new ValidationContext(new object())).Select(r => r.ErrorMessage!).ToList();

    [Fact]
    public void The_file_system_default_needs_nothing()
    {
        Assert.Empty(Errors(new ReportStorageOptions()));
    }

    [Fact]
    public void S3_without_bucket_or_credentials_is_refused_in_french()
    {
        var errors = Errors(new ReportStorageOptions { Provider = "S3", S3 = new() { ServiceUrl = "http://127.0.0.1:9000" } });
        Assert.Contains(errors, e => e.Contains("Storage:Reports:S3:Bucket"));
        Assert.Contains(errors, e => e.Contains("Storage:Reports:S3:AccessKey et Storage:Reports:S3:SecretKey"));
    }

    [Fact]
    public void S3_needs_an_endpoint_or_a_region_and_a_known_provider_name()
    {
        var s3 = new S3StorageOptions { Bucket = "b", AccessKey = "a", SecretKey = "s" };
        Assert.Contains(Errors(new ReportStorageOptions { Provider = "S3", S3 = s3 }), e => e.Contains("ServiceUrl") && e.Contains("Region"));
        Assert.Empty(Errors(new ReportStorageOptions { Provider = "s3", S3 = new() { Bucket = "b", AccessKey = "a", SecretKey = "s", Region = "eu-west-3" } }));
        Assert.Contains(Errors(new ReportStorageOptions { Provider = "Azure" }), e => e.Contains("inconnu"));
    }
}
