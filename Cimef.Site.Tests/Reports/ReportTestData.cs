using System.Text;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Cimef.Site.Reports;

namespace Cimef.Site.Tests.Reports;

/// <summary>Sample files, the publishing call and raw multipart bodies for the reports tests (patients come from factory.Data).</summary>
public static class ReportTestData
{
    public static readonly byte[] PdfBytes = Encoding.ASCII.GetBytes("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");
    public static readonly byte[] Png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0];
    public static readonly byte[] Jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 0x4A, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xFF, 0xD9];
    public static readonly byte[] HtmlNamedPdf = Encoding.ASCII.GetBytes("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>");
    public static readonly byte[] Polyglot = Encoding.ASCII.GetBytes("GIF89a/*garbage*/\n%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n");

    /// <summary>Publishes a report directly through the release workflow (as the page and the API do).</summary>
    public static Task<ReportPublisher.Result> UploadAsync(CimefFactory factory, TestPatient s, byte[] bytes, string title = "IRM du genou", string name = "compte-rendu.pdf")
        => factory.WithScopeAsync(sp => sp.GetRequiredService<ReportPublisher>()
            .UploadAsync(s.PatientId, s.InvoiceId, title, name, new MemoryStream(bytes), TestData.System));

    public static string Grouped(string key) => $"{key[..4]} {key[4..8]} {key[8..]}";

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
