using System.Security.Claims;
using System.Text;
using Cimef.Site.Access;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Storage;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Reports;

/// <summary>Patients, invoices, accesses, sample files and raw multipart bodies for the reports and notifications tests.</summary>
public static class ReportTestData
{
    public static readonly byte[] PdfBytes = Encoding.ASCII.GetBytes("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");
    public static readonly byte[] Png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0];
    public static readonly byte[] Jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 0x4A, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xFF, 0xD9];
    public static readonly byte[] HtmlNamedPdf = Encoding.ASCII.GetBytes("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>");
    public static readonly byte[] Polyglot = Encoding.ASCII.GetBytes("GIF89a/*garbage*/\n%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n");

    public sealed record Seeded(int PatientId, string PatientName, int InvoiceId, string InvoiceNumber, int? AccessId);

    public static ClaimsPrincipal System => new(new ClaimsIdentity([new Claim(ClaimTypes.Name, "tests")], "test"));

    /// <summary>A patient with one invoice of the given status; Sent/Paid invoices get the patient's access (get-or-create).</summary>
    public static Task<Seeded> PatientWithInvoiceAsync(CimefFactory factory, InvoiceStatus status, string? name = null, string? email = "patient@example.sn", string phone = "+221771234567")
        => WithScopeAsync(factory, async sp =>
        {
            var db = sp.GetRequiredService<CimefDb>();
            name ??= "Awa Ndiaye " + Guid.NewGuid().ToString("N")[..6];
            var patient = new Patient
            {
                FullName = name, SearchName = Text.SearchForm(name), Phone = phone, Email = email,
                CreatedAt = factory.Time.GetUtcNow().UtcDateTime, CreatedBy = "tests",
            };
            db.Patients.Add(patient);
            await db.SaveChangesAsync();
            return await AddInvoiceAsync(sp, factory, patient, status);
        });

    public static Task<Seeded> AnotherInvoiceAsync(CimefFactory factory, int patientId, InvoiceStatus status)
        => WithScopeAsync(factory, async sp =>
        {
            var db = sp.GetRequiredService<CimefDb>();
            var patient = await db.Patients.SingleAsync(p => p.Id == patientId);
            return await AddInvoiceAsync(sp, factory, patient, status);
        });

    private static async Task<Seeded> AddInvoiceAsync(IServiceProvider sp, CimefFactory factory, Patient patient, InvoiceStatus status)
    {
        var db = sp.GetRequiredService<CimefDb>();
        var now = factory.Time.GetUtcNow().UtcDateTime;
        await using var tx = await db.Database.BeginTransactionAsync();
        var invoice = new Invoice
        {
            Number = await InvoiceNumbers.NextAsync(db, now.Year),
            Patient = patient, PatientId = patient.Id, Status = status, Total = 25000,
            CreatedAt = now, CreatedBy = "tests",
            IssuedAt = status == InvoiceStatus.Draft ? null : now,
        };
        db.Invoices.Add(invoice);
        if (status is InvoiceStatus.Sent or InvoiceStatus.Paid)
            await sp.GetRequiredService<AccessProvisioning>().EnsureForInvoiceAsync(invoice, System);
        await db.SaveChangesAsync();
        await tx.CommitAsync();
        return new Seeded(patient.Id, patient.FullName, invoice.Id, invoice.Number, invoice.PatientAccessId);
    }

    public static async Task<T> WithScopeAsync<T>(CimefFactory factory, Func<IServiceProvider, Task<T>> work)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider);
    }

    /// <summary>Publishes a report directly through the release workflow (as the page and the API do).</summary>
    public static Task<ReportPublisher.Result> UploadAsync(CimefFactory factory, Seeded s, byte[] bytes, string title = "IRM du genou", string name = "compte-rendu.pdf")
        => WithScopeAsync(factory, sp => sp.GetRequiredService<ReportPublisher>()
            .UploadAsync(s.PatientId, s.InvoiceId, title, name, new MemoryStream(bytes), System));

    /// <summary>The patient's access key and (decrypted) password, as the tests expect them in messages.</summary>
    public static Task<(string Key, string Password)> CredentialsAsync(CimefFactory factory, int patientId)
        => WithScopeAsync(factory, async sp =>
        {
            var access = await sp.GetRequiredService<CimefDb>().PatientAccesses.SingleAsync(a => a.PatientId == patientId);
            return (access.AccessKey, sp.GetRequiredService<CredentialProtector>().Unprotect(access.ProtectedPassword));
        });

    public static string Grouped(string key) => $"{key[..4]} {key[4..8]} {key[8..]}";

    /// <summary>A Bearer token for a new staff member with the role.</summary>
    public static async Task<string> ApiTokenAsync(CimefFactory factory, string role)
    {
        var email = $"api-{Guid.NewGuid():N}@cimef.test";
        await factory.CreateStaffAsync(email, role);
        var token = ApiTokenHandler.NewToken();
        await factory.WithDbAsync(async db =>
        {
            var user = await db.Users.SingleAsync(u => u.Email == email);
            db.ApiTokens.Add(new ApiToken { UserId = user.Id, Name = "tests", TokenHash = ApiTokenHandler.HashToken(token), CreatedAt = factory.Time.GetUtcNow().UtcDateTime, ExpiresAt = factory.Time.GetUtcNow().UtcDateTime.AddDays(365) });
            return await db.SaveChangesAsync();
        });
        return token;
    }

    public sealed record Part(string Name, string? Value = null, string? FileName = null, byte[]? Bytes = null);

    /// <summary>A multipart/form-data body written byte for byte, so tests can send hostile file names (CR/LF, ../).</summary>
    public static HttpContent Multipart(params Part[] parts)
    {
        var boundary = "----cimef" + Guid.NewGuid().ToString("N");
        var body = new MemoryStream();
        void Write(string s) => body.Write(Encoding.UTF8.GetBytes(s));
        foreach (var p in parts)
        {
            Write($"--{boundary}\r\n");
            if (p.Bytes is null)
            {
                Write($"Content-Disposition: form-data; name=\"{p.Name}\"\r\n\r\n{p.Value}\r\n");
                continue;
            }
            // A name with CR/LF travels RFC 5987-encoded (filename*), as a client would have to send it.
            var disposition = p.FileName!.IndexOfAny(['\r', '\n']) >= 0
                ? $"filename=\"report.pdf\"; filename*=UTF-8''{Uri.EscapeDataString(p.FileName)}"
                : $"filename=\"{p.FileName}\"";
            Write($"Content-Disposition: form-data; name=\"{p.Name}\"; {disposition}\r\nContent-Type: application/pdf\r\n\r\n");
            body.Write(p.Bytes);
            Write("\r\n");
        }
        Write($"--{boundary}--\r\n");
        var content = new ByteArrayContent(body.ToArray());
        content.Headers.TryAddWithoutValidation("Content-Type", $"multipart/form-data; boundary={boundary}");
        return content;
    }

    public static IEnumerable<string> VisibleReportFiles(CimefFactory factory)
    {
        var dir = Path.Combine(factory.DataDir, "reports");
        return Directory.Exists(dir) ? Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories) : [];
    }
}
