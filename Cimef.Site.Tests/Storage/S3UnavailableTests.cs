using System.Net;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Notifications;
using Microsoft.EntityFrameworkCore;
using static Cimef.Site.Tests.Reports.ReportTestData;

namespace Cimef.Site.Tests.Storage;

/// <summary>Storage:Reports:Provider=S3 with nothing listening at the endpoint (the object store is down).</summary>
public sealed class DownS3Factory : CimefFactory
{
    public DownS3Factory()
    {
        Settings["Storage:Reports:Provider"] = "S3";
        Settings["Storage:Reports:S3:ServiceUrl"] = $"http://127.0.0.1:{FreePort.Next()}";
        Settings["Storage:Reports:S3:Bucket"] = "cimef-reports";
        Settings["Storage:Reports:S3:AccessKey"] = "cle";
        Settings["Storage:Reports:S3:SecretKey"] = "secret";
        Settings["Storage:Reports:S3:ForcePathStyle"] = "true";
    }
}

public class S3UnavailableTests(DownS3Factory factory) : IClassFixture<DownS3Factory>
{
    [Fact]
    public async Task The_site_starts_and_an_upload_is_a_french_503_with_nothing_saved()
    {
        var p = await factory.Data.PatientAsync(status: InvoiceStatus.Paid);
        var client = factory.NewClient();
        client.UseBearer(await factory.Data.ApiTokenAsync(Roles.Doctor));

        var response = await client.PostAsync("/api/reports/", Multipart(new("invoice_number", p.InvoiceNumber), new("title", "IRM"), new("file", FileName: "irm.pdf", Bytes: PdfBytes)));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("Le stockage des rapports (S3) ne répond pas", await response.Content.ReadAsStringAsync());
        Assert.False(await factory.WithDbAsync(db => db.PatientReports.AnyAsync()));
    }
}
