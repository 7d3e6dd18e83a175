using Cimef.Site.Data.Entities;
using Cimef.Site.Notifications;
using Cimef.Site.Tests.Infrastructure;
using MimeKit;
using static Cimef.Site.Tests.Reports.ReportTestData;

namespace Cimef.Site.Tests.Notifications;

public class PickupFolderTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    [Fact]
    public async Task With_nothing_configured_email_and_sms_are_written_to_the_pickup_folders()
    {
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid, name: "Ibrahima Sow", email: "ibrahima@example.sn", phone: "+221775550000");
        await UploadAsync(factory, s, PdfBytes);

        await factory.ProcessOutboxAsync();

        Assert.All(await factory.OutboxOfAsync(s.PatientId), m => Assert.Equal(OutboxStatus.Sent, m.Status));
        var (key, password) = (s.Key, s.Password);
        var emails = Directory.GetFiles(Path.Combine(factory.DataDir, "mail-pickup"), "*.eml")
            .Select(f => MimeMessage.Load(f)).Where(m => m.To.Mailboxes.Any(x => x.Address == "ibrahima@example.sn")).ToList();
        Assert.Equal(2, emails.Count);
        var results = Assert.Single(emails, m => m.Subject == EmailMessages.ResultsSubject);
        Assert.Contains("Bonjour Ibrahima Sow", results.TextBody);
        Assert.Contains(password, results.TextBody);

        var sms = Directory.GetFiles(Path.Combine(factory.DataDir, "sms-pickup"), "*.txt").Select(File.ReadAllText)
            .Where(t => t.StartsWith("To: +221775550000")).ToList();
        Assert.Equal(2, sms.Count);
        Assert.All(sms, t =>
        {
            var body = t.Split("\n\n", 2)[1].TrimEnd('\n');
            Assert.True(body.Length <= SmsText.MaxLength, body);
            Assert.True(SmsText.IsGsm7(body), body);
            Assert.Contains(Grouped(key), body);
            Assert.Contains("http://localhost:5000/patient", body);
            Assert.DoesNotContain(password, body);
        });
    }
}
