"""I/O-bound: the main thread sleeps, talks to a local echo server over TCP on
127.0.0.1 (the server thread waits 1 ms before each answer) and computes a little.
Ground truth: the wall time of each part (io_sleep, io_socket, io_cpu)."""
import socket
import sys
import threading
import time

from _truth import Truth


def serve(listener):
    conn, _ = listener.accept()
    with conn:
        while True:
            data = conn.recv(64)
            if not data:
                return
            time.sleep(0.001)
            conn.sendall(data)


def io_sleep(n):
    for _ in range(n):
        time.sleep(0.002)


def io_socket(sock, n):
    for _ in range(n):
        sock.sendall(b"ping")
        sock.recv(64)


def io_cpu(n):
    return sum(i * i for i in range(n))


def main(scale):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    server = threading.Thread(target=serve, args=(listener,), daemon=True)
    server.start()
    sock = socket.create_connection(listener.getsockname())
    truth = Truth()
    for _ in range(int(20 * scale)):
        with truth.part("io_sleep"):
            io_sleep(10)
        with truth.part("io_socket"):
            io_socket(sock, 10)
        with truth.part("io_cpu"):
            io_cpu(20000)
    sock.close()
    server.join()
    listener.close()
    truth.finish()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
